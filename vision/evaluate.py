"""Event-level evaluation: did the pipeline report each incident once, on the right subject, soon?

Frame-level mAP says little about what a regulator sees; this scores the events themselves
against the ground truth of ``sample_videos/*.json``. The match rule (``docs/evaluation.md``):

- a prediction and a truth match when they have the same kind, their time spans overlap, and the
  predicted subject's boxes (sampled during the event) have a mean IoU of at least 0.3 with the
  truth subject's boxes at the same times, over the overlap;
- matching is one-to-one (Hungarian): the assignment with the most matches; among those, the
  earliest-opened predictions (an incident reported twice was first learnt of at the first
  report: the later one is the duplicate), then the highest IoU; one prediction matches at most
  one truth;
- an unmatched prediction that would have matched an already-matched truth is a *duplicate*
  (it also counts as a false positive);
- a truth that starts within ``cooldown_s`` of the previous truth of the same subject and kind
  is one the product must not report again: it is *ignored* (neither missed nor matched, and a
  prediction on it is no false alarm);
- delay = the moment the event was opened (emitted) − truth start; for records written before
  the opening time was kept (no ``open_s``), predicted start + ``min_duration_s`` instead.

Every truth and prediction also gets an ``Outcome`` (hit, miss, false alarm, duplicate,
ignored), so ``brightkitchen eval --details`` can say which incidents went wrong.

Example::

    clip = evaluate_clip("storage_night", gt_doc, [PredEvent.from_event(e) for e in events])
    print(format_report(summarize([clip])))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from vision.geometry import BoxXYXY, iou
from vision.kinds import VISUAL_KINDS, ObjectClass, ViolationKind
from vision.rule_config import CameraRules
from vision.types import ViolationEvent

MIN_IOU = 0.3
UNMATCHED = 1e6  # cost of a pair that cannot match: fewer matches never pay for earlier ones
SUBJECT_CLASS: dict[ViolationKind, tuple[str, ...]] = {
    ViolationKind.RODENT: (ObjectClass.RAT.value,),
    ViolationKind.COCKROACH: (ObjectClass.COCKROACH.value,),
    ViolationKind.OPEN_BIN: (ObjectClass.BIN_OPEN.value, ObjectClass.BIN_CLOSED.value),
}  # every other kind: the person


@dataclass(frozen=True, slots=True)
class TruthEvent:
    kind: ViolationKind
    track_id: int
    start_s: float
    end_s: float
    ignored: bool = False  # inside the cooldown of the previous one (see module docstring)


@dataclass(frozen=True, slots=True)
class PredEvent:
    kind: ViolationKind
    start_s: float
    end_s: float
    boxes: tuple[tuple[float, float, float, float, float], ...]  # (ts, x1, y1, x2, y2)
    id: str = ""
    open_s: float | None = None  # when the event was opened (None: not recorded)

    @classmethod
    def from_event(cls, e: ViolationEvent) -> PredEvent:
        end = e.ended_s if e.ended_s is not None else e.updated_s
        boxes = tuple(tuple(b) for b in e.track_boxes)
        return cls(e.kind, e.started_s, end, boxes, e.id, e.opened_s)  # type: ignore[arg-type]

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> PredEvent:
        boxes = tuple(
            (float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4])) for b in r["track_boxes"]
        )
        end = r["end_s"] if r.get("end_s") is not None else r["start_s"]
        opened = float(r["open_s"]) if r.get("open_s") is not None else None
        kind, start = ViolationKind(r["kind"]), float(r["start_s"])
        return cls(kind, start, float(end), boxes, str(r.get("id", "")), opened)

    def opened_at(self, min_duration_s: float) -> float:
        """When the event opened: recorded, or (older records) its start + ``min_duration_s``."""
        return self.open_s if self.open_s is not None else self.start_s + min_duration_s


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one truth or one prediction of a clip (``verdict``: hit, miss, false,
    duplicate, ignored); ``delay_s``, ``iou`` and the delay aim (``min_duration_s`` + 1 s) for hits."""

    clip: str
    kind: ViolationKind
    verdict: str
    truth: TruthEvent | None = None
    pred: PredEvent | None = None
    delay_s: float | None = None
    iou: float | None = None
    aim_s: float | None = None

    @property
    def start_s(self) -> float:
        """When the incident began: the truth's start, else the event's."""
        return self.truth.start_s if self.truth is not None else self.pred.start_s if self.pred else 0.0

    @property
    def late(self) -> bool:
        """A hit opened later than its delay aim."""
        return self.delay_s is not None and self.aim_s is not None and self.delay_s > self.aim_s + 1e-9

    def describe(self) -> str:
        """One line for a person: the clip, the kind, the verdict, the times."""
        verdict = "late hit" if self.verdict == "hit" and self.late else self.verdict
        parts = [f"{self.clip}  {self.kind.value}  {verdict}"]
        if self.truth is not None:
            t = self.truth
            parts.append(f"truth {t.start_s:.2f}-{t.end_s:.2f} s (subject {t.track_id})")
        if self.pred is not None:
            p = self.pred
            opened = f", opened {p.open_s:.2f}" if p.open_s is not None else ""
            parts.append(
                f"event {p.start_s:.2f}-{p.end_s:.2f} s{opened}" + (f" [{p.id[:8]}]" if p.id else "")
            )
        if self.delay_s is not None:
            aim = f" (aim {self.aim_s:.1f})" if self.aim_s is not None else ""
            parts.append(f"delay {self.delay_s:+.2f} s{aim}, IoU {self.iou:.2f}")
        return "  ".join(parts)

    def as_json(self) -> dict[str, Any]:
        def span(e: TruthEvent | PredEvent | None) -> dict[str, Any] | None:
            if e is None:
                return None
            out: dict[str, Any] = {"start_s": round(e.start_s, 3), "end_s": round(e.end_s, 3)}
            if isinstance(e, TruthEvent):
                out["track_id"] = e.track_id
            else:
                out |= {"id": e.id, "open_s": e.open_s}
            return out

        return {
            "clip": self.clip,
            "kind": self.kind.value,
            "verdict": self.verdict,
            "late": self.late,
            "truth": span(self.truth),
            "event": span(self.pred),
            "delay_s": None if self.delay_s is None else round(self.delay_s, 3),
            "iou": None if self.iou is None else round(self.iou, 3),
        }


@dataclass(slots=True)
class KindCounts:
    truths: int = 0
    preds: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    duplicates: int = 0
    ignored: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, other: KindCounts) -> None:
        for name in ("truths", "preds", "tp", "fp", "fn", "duplicates", "ignored"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes.extend(other.outcomes)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def delays(self) -> list[float]:
        """Of the hits: opening − truth start."""
        return [o.delay_s for o in self.outcomes if o.verdict == "hit" and o.delay_s is not None]

    @property
    def mean_delay_s(self) -> float | None:
        delays = self.delays
        return float(np.mean(delays)) if delays else None


@dataclass(slots=True)
class ClipEval:
    name: str
    duration_s: float
    per_kind: dict[ViolationKind, KindCounts]
    hard_negative: bool = False

    @property
    def false_alarms(self) -> int:
        return sum(c.fp for c in self.per_kind.values())


@dataclass(slots=True)
class EvalReport:
    clips: list[ClipEval]
    per_kind: dict[ViolationKind, KindCounts]
    overall: KindCounts
    hours: float
    negative_hours: float

    @property
    def false_alarms_per_hour(self) -> float:
        return self.overall.fp / self.hours if self.hours else 0.0

    @property
    def negative_false_alarms_per_hour(self) -> float | None:
        fp = sum(c.false_alarms for c in self.clips if c.hard_negative)
        return fp / self.negative_hours if self.negative_hours else None


def truth_events(doc: dict[str, Any], rules: CameraRules | None = None) -> list[TruthEvent]:
    """The clip's truth events, those inside a cooldown of their predecessor marked ``ignored``."""
    rules = rules or clip_rules(doc)
    out: list[TruthEvent] = []
    last_end: dict[tuple[ViolationKind, int], float] = {}
    for e in sorted(doc["events"], key=lambda e: e["start_s"]):
        kind, tid = ViolationKind(e["kind"]), int(e["track_id"])
        prev = last_end.get((kind, tid))
        ignored = prev is not None and e["start_s"] < prev + rules.params(kind).cooldown_s
        out.append(TruthEvent(kind, tid, float(e["start_s"]), float(e["end_s"]), ignored))
        if not ignored:
            last_end[(kind, tid)] = float(e["end_s"])
    return out


def clip_rules(doc: dict[str, Any]) -> CameraRules:
    return CameraRules.model_validate(doc.get("camera", {}).get("rules", {}))


class SubjectBoxes:
    """Ground-truth subject boxes by (track, class group) and frame, looked up by time."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.fps = float(doc["video"]["fps"])
        self.boxes: dict[tuple[int, str], dict[int, BoxXYXY]] = {}
        for frame in doc["frames"]:
            for o in frame["objects"]:
                group = _group(o["class"])
                if group is not None:
                    x1, y1, x2, y2 = o["xyxy"]
                    self.boxes.setdefault((int(o["track_id"]), group), {})[int(frame["index"])] = (
                        x1,
                        y1,
                        x2,
                        y2,
                    )

    def at(self, track_id: int, kind: ViolationKind, ts_s: float) -> BoxXYXY | None:
        group = "person" if kind not in SUBJECT_CLASS else SUBJECT_CLASS[kind][0]
        return self.boxes.get((track_id, group), {}).get(round(ts_s * self.fps))


def _group(cls: str) -> str | None:
    if cls == ObjectClass.PERSON.value:
        return "person"
    for classes in SUBJECT_CLASS.values():
        if cls in classes:
            return classes[0]
    return None


def subject_iou(pred: PredEvent, truth: TruthEvent, gt: SubjectBoxes, tolerance_s: float = 0.1) -> float:
    """Mean IoU of the predicted subject boxes vs the truth subject over their overlap; 0 if none."""
    lo, hi = max(pred.start_s, truth.start_s) - tolerance_s, min(pred.end_s, truth.end_s) + tolerance_s
    if hi < lo:
        return 0.0
    scores = []
    for ts, *box in pred.boxes:
        if lo <= ts <= hi:
            ref = gt.at(truth.track_id, truth.kind, ts)
            if ref is not None:
                scores.append(iou((box[0], box[1], box[2], box[3]), ref))
    return float(np.mean(scores)) if scores else 0.0


def evaluate_clip(
    name: str,
    doc: dict[str, Any],
    preds: Sequence[PredEvent],
    *,
    hard_negative: bool | None = None,
) -> ClipEval:
    """Match one clip's predictions to its truth, kind by kind."""
    rules = clip_rules(doc)
    truths = truth_events(doc, rules)
    gt = SubjectBoxes(doc)
    per_kind: dict[ViolationKind, KindCounts] = {}
    for kind in VISUAL_KINDS:
        t_k = [t for t in truths if t.kind == kind]
        p_k = [p for p in preds if p.kind == kind]
        per_kind[kind] = _match_kind(kind, t_k, p_k, gt, rules.params(kind).min_duration_s, clip=name)
    negative = hard_negative if hard_negative is not None else not doc["events"]
    return ClipEval(name, float(doc["video"]["duration_s"]), per_kind, negative)


def _match_kind(
    kind: ViolationKind,
    truths: Sequence[TruthEvent],
    preds: Sequence[PredEvent],
    gt: SubjectBoxes,
    min_duration_s: float,
    *,
    clip: str = "",
) -> KindCounts:
    counts = KindCounts(truths=sum(not t.ignored for t in truths), preds=len(preds))
    score = np.zeros((len(preds), len(truths)))
    for i, p in enumerate(preds):
        for j, t in enumerate(truths):
            s = subject_iou(p, t, gt)
            score[i, j] = s if s >= MIN_IOU else 0.0
    matched_p: set[int] = set()
    matched_t: set[int] = set()
    counted = [j for j, t in enumerate(truths) if not t.ignored]
    if preds and counted:
        # Most matches first; then the earliest openings (with more predictions than truths,
        # which of them is left out: the later report of an incident is its duplicate; a full
        # assignment's total delay is the same whichever pairs it takes); then the IoU.
        opened = np.array([p.opened_at(min_duration_s) for p in preds])
        sub = score[:, counted]
        cost = np.where(sub > 0, 0.0, UNMATCHED) + opened[:, None] - 1e-3 * sub
        rows, cols = linear_sum_assignment(cost)
        for i, c in zip(rows, cols, strict=True):
            j = counted[c]
            if score[i, j] > 0:
                matched_p.add(i)
                matched_t.add(j)
                delay = float(opened[i]) - truths[j].start_s
                counts.outcomes.append(
                    Outcome(
                        clip,
                        kind,
                        "hit",
                        truths[j],
                        preds[i],
                        delay,
                        float(score[i, j]),
                        min_duration_s + 1.0,
                    )
                )
    counts.tp = len(matched_t)
    counts.fn = counts.truths - counts.tp
    counts.outcomes.extend(
        Outcome(clip, kind, "miss", truth=truths[j]) for j in counted if j not in matched_t
    )
    for i in range(len(preds)):
        if i in matched_p:
            continue
        hits = [j for j in range(len(truths)) if score[i, j] > 0]
        if hits and all(truths[j].ignored for j in hits):
            counts.ignored += 1
            verdict = "ignored"
        elif any(j in matched_t for j in hits):
            counts.duplicates += 1
            counts.fp += 1
            verdict = "duplicate"
        else:
            counts.fp += 1
            verdict = "false"
        twin = next((truths[j] for j in hits if j in matched_t), truths[hits[0]] if hits else None)
        counts.outcomes.append(Outcome(clip, kind, verdict, truth=twin, pred=preds[i]))
    return counts


def summarize(clips: Iterable[ClipEval]) -> EvalReport:
    clips = list(clips)
    per_kind = {k: KindCounts() for k in VISUAL_KINDS}
    overall = KindCounts()
    for clip in clips:
        for kind, c in clip.per_kind.items():
            per_kind[kind].add(c)
            overall.add(c)
    hours = sum(c.duration_s for c in clips) / 3600
    negative_hours = sum(c.duration_s for c in clips if c.hard_negative) / 3600
    return EvalReport(clips, per_kind, overall, hours, negative_hours)


def report_rows(report: EvalReport) -> list[list[str]]:
    """Table rows (kind, truths, preds, TP, FP, FN, dup, P, R, F1, delay) for printing."""

    def row(name: str, c: KindCounts) -> list[str]:
        delay = f"{c.mean_delay_s:+.2f}" if c.mean_delay_s is not None else "-"
        nums = [c.truths, c.preds, c.tp, c.fp, c.fn, c.duplicates]
        return [name, *map(str, nums), f"{c.precision:.2f}", f"{c.recall:.2f}", f"{c.f1:.2f}", delay]

    rows = [row(k.value, c) for k, c in report.per_kind.items() if c.truths or c.preds]
    rows.append(row("overall", report.overall))
    return rows


REPORT_HEADER = ["kind", "truth", "pred", "TP", "FP", "FN", "dup", "P", "R", "F1", "delay_s"]


def format_report(report: EvalReport) -> str:
    """Plain-text table plus the false-alarm rates (for logs and the benchmark scripts)."""
    rows = [REPORT_HEADER, *report_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(REPORT_HEADER))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(
        f"false alarms per camera-hour: {report.false_alarms_per_hour:.1f} ({report.hours * 60:.1f} min)"
    )
    neg = report.negative_false_alarms_per_hour
    if neg is not None:
        lines.append(f"false alarms per camera-hour on hard negatives: {neg:.1f}")
    return "\n".join(lines)
