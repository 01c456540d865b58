"""Event-level matching on ground truth built from plain lists."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from vision.evaluate import PredEvent, evaluate_clip, iou, summarize, truth_events
from vision.kinds import ViolationKind

FPS = 10
PERSON = (100.0, 50.0, 160.0, 250.0)
OTHER = (400.0, 50.0, 460.0, 250.0)


def doc(events: list[tuple[str, int, float, float]], seconds: int = 30) -> dict[str, Any]:
    """Person 1 at PERSON and person 2 at OTHER on every frame."""
    frames = [
        {
            "index": i,
            "t_s": i / FPS,
            "objects": [
                {"track_id": 1, "class": "person", "xyxy": list(PERSON)},
                {"track_id": 2, "class": "person", "xyxy": list(OTHER)},
            ],
        }
        for i in range(seconds * FPS)
    ]
    return {
        "video": {"fps": FPS, "duration_s": float(seconds)},
        "camera": {"rules": {}},
        "frames": frames,
        "events": [{"kind": k, "track_id": t, "start_s": a, "end_s": b} for k, t, a, b in events],
    }


def pred(kind: str, start: float, end: float, box: tuple[float, float, float, float] = PERSON) -> PredEvent:
    samples = tuple((start + 0.25 * i, *box) for i in range(int((end - start) / 0.25) + 1))
    return PredEvent(ViolationKind(kind), start, end, samples)  # type: ignore[arg-type]


def counts(d: dict[str, Any], preds: list[PredEvent], kind: str = "no_hat"):
    return evaluate_clip("clip", d, preds).per_kind[ViolationKind(kind)]


def test_exact_match_is_a_hit_with_delay_min_duration() -> None:
    c = counts(doc([("no_hat", 1, 2.0, 8.0)]), [pred("no_hat", 2.0, 8.0)])
    assert (c.tp, c.fp, c.fn, c.duplicates) == (1, 0, 0, 0)
    assert c.mean_delay_s == pytest.approx(2.0)  # opens min_duration (2 s) after the start
    assert c.f1 == 1.0


def test_delay_runs_to_the_recorded_opening_not_the_backdated_start() -> None:
    late = dataclasses.replace(pred("no_hat", 2.0, 8.0), open_s=5.5)  # held back 1.5 s past min_duration
    c = counts(doc([("no_hat", 1, 2.0, 8.0)]), [late])
    assert c.tp == 1
    assert c.mean_delay_s == pytest.approx(3.5)
    record = {"kind": "no_hat", "start_s": 2.0, "end_s": 8.0, "open_s": 5.5, "track_boxes": [[2.0, *PERSON]]}
    assert PredEvent.from_record(record).open_s == 5.5
    assert PredEvent.from_record({**record, "open_s": None}).opened_at(2.0) == 4.0  # older files


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        (pred("no_hat", 2.0, 8.0, OTHER), (0, 1, 1)),  # right time, wrong person
        (pred("no_hat", 10.0, 14.0), (0, 1, 1)),  # right person, no time overlap
        (pred("no_mask", 2.0, 8.0), (0, 0, 1)),  # other kind: counted under no_mask
        (pred("no_hat", 6.0, 12.0), (1, 0, 0)),  # partial overlap, same person
    ],
)
def test_match_needs_kind_subject_and_time(prediction: PredEvent, expected: tuple[int, int, int]) -> None:
    c = counts(doc([("no_hat", 1, 2.0, 8.0)]), [prediction])
    assert (c.tp, c.fp, c.fn) == expected


def test_second_prediction_of_same_incident_is_a_duplicate() -> None:
    c = counts(doc([("no_hat", 1, 2.0, 12.0)]), [pred("no_hat", 2.0, 6.0), pred("no_hat", 7.0, 12.0)])
    assert (c.tp, c.fp, c.fn, c.duplicates) == (1, 1, 0, 1)


def test_one_to_one_assignment_prefers_the_right_pairs() -> None:
    d = doc([("no_hat", 1, 2.0, 8.0), ("no_hat", 2, 2.0, 8.0)])
    c = counts(d, [pred("no_hat", 2.0, 8.0, OTHER), pred("no_hat", 2.0, 8.0, PERSON)])
    assert (c.tp, c.fp, c.fn) == (2, 0, 0)


def test_truth_inside_cooldown_is_ignored() -> None:
    d = doc([("no_hat", 1, 2.0, 5.0), ("no_hat", 1, 9.0, 14.0)])
    assert [t.ignored for t in truth_events(d)] == [False, True]
    c = counts(d, [pred("no_hat", 2.0, 5.0)])
    assert (c.truths, c.tp, c.fn, c.fp) == (1, 1, 0, 0)
    c2 = counts(d, [pred("no_hat", 2.0, 5.0), pred("no_hat", 9.0, 14.0)])
    assert (c2.tp, c2.fp, c2.ignored) == (1, 0, 1)


def test_false_alarms_per_camera_hour_and_hard_negatives() -> None:
    clean = evaluate_clip("clean", doc([], seconds=36), [pred("phone", 1.0, 5.0)])
    busy = evaluate_clip("busy", doc([("no_hat", 1, 2.0, 8.0)], seconds=36), [pred("no_hat", 2.0, 8.0)])
    report = summarize([clean, busy])
    assert clean.hard_negative and not busy.hard_negative
    assert report.false_alarms_per_hour == pytest.approx(1 / (72 / 3600))
    assert report.negative_false_alarms_per_hour == pytest.approx(1 / (36 / 3600))
    assert report.overall.tp == 1 and report.overall.fp == 1


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0


def test_the_first_report_of_an_incident_is_the_hit_and_the_later_one_its_duplicate() -> None:
    # one incident reported twice: the second report lies closer on the subject (higher IoU), but
    # the regulator learnt of the incident at the first one, so that one is the hit and sets the delay
    d = doc([("no_hat", 1, 2.0, 20.0)])
    first = pred("no_hat", 2.0, 12.0, (104.0, 50.0, 164.0, 250.0))
    second = pred("no_hat", 13.0, 20.0)
    c = counts(d, [second, first])
    assert (c.tp, c.fp, c.duplicates) == (1, 1, 1)
    assert c.mean_delay_s == pytest.approx(2.0)  # first.opened_at(2.0) - 2.0, not second's 13.0
    verdicts = {(o.verdict, o.pred.start_s if o.pred else None) for o in c.outcomes}
    assert verdicts == {("hit", 2.0), ("duplicate", 13.0)}


def test_more_matches_beat_earlier_openings() -> None:
    # the early prediction fits both people's truths; the late one only person 1's: taking the
    # early one for person 1 would leave person 2 unmatched
    d = doc([("no_hat", 1, 2.0, 12.0), ("no_hat", 2, 2.0, 12.0)])
    between = (250.0, 50.0, 310.0, 250.0)
    both = PredEvent(
        ViolationKind.NO_HAT,
        2.0,
        12.0,
        tuple((2.0 + 0.25 * i, *(PERSON if i % 2 else OTHER)) for i in range(40)),
    )
    late = pred("no_hat", 6.0, 12.0)
    c = counts(d, [both, late, pred("no_hat", 2.0, 12.0, between)])
    assert (c.tp, c.fn) == (2, 0)


def test_every_truth_and_prediction_gets_an_outcome() -> None:
    d = doc([("no_hat", 1, 2.0, 8.0), ("no_hat", 2, 2.0, 8.0), ("no_hat", 1, 20.0, 28.0)])
    preds = [pred("no_hat", 2.0, 8.0, OTHER), pred("no_hat", 12.0, 16.0), pred("no_hat", 20.0, 26.0)]
    outcomes = evaluate_clip("cam-x", d, preds).per_kind[ViolationKind.NO_HAT].outcomes
    got = sorted((o.verdict, o.truth.track_id if o.truth else None) for o in outcomes)
    assert got == [("false", None), ("hit", 2), ("ignored", 1), ("miss", 1)]
    assert {o.clip for o in outcomes} == {"cam-x"}
    hit = next(o for o in outcomes if o.verdict == "hit")
    assert hit.delay_s == pytest.approx(2.0) and hit.iou == pytest.approx(1.0)
    assert not hit.late and dataclasses.replace(hit, delay_s=3.5).late  # aim: min_duration + 1 = 3 s
    assert "late hit" in dataclasses.replace(hit, delay_s=3.5).describe()
    assert {o.as_json()["verdict"] for o in outcomes} == {"hit", "miss", "false", "ignored"}
