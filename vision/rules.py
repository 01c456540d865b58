"""Rule engine: per-frame conditions on tracked subjects become one event per incident.

For each (subject track, kind) the engine keeps a small state: recent observations for a
majority vote (one stray frame neither starts nor breaks a run), the current run (first and last
frame where the condition held), the open event and the cooldown. The timing follows
``vision.rule_config`` exactly as the synthetic ground truth does (``sample_videos/SCHEMA.md``):

- a run starts at the first frame where the condition holds; frames at most ``grace_s`` apart
  belong to the same run;
- the event opens once the run has lasted ``min_duration_s``, counting the frame itself
  (``frame_s``, as the ground truth counts frames), and its ``started_s`` is the run's
  first frame), is updated every ``update_every_s`` and closes when the condition has been absent
  for ``grace_s`` (``ended_s`` is the last frame where it held);
- no second event for the same subject and kind opens within ``cooldown_s`` of the last one's end.

What holds on one frame is ``vision.observe``'s job; a condition that cannot be seen (no head
box: hat unknown) is not an observation at all. Which state an observation belongs to when the
tracker's ids do not follow people (hand-overs, second boxes, subjects lost and found) is
``vision.continuity``'s, which the engine inherits.

Example::

    engine = RuleEngine("cam-1", CameraRules())
    for frame_events in (engine.evaluate(ts, subjects, (640, 360)) for ts, subjects in timeline):
        ...
    closing = engine.flush()
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from vision.appearance import blend
from vision.continuity import RunState, SubjectContinuity
from vision.geometry import BoxXYXY
from vision.kinds import ViolationKind
from vision.observe import Observation, observe
from vision.rule_config import CameraRules
from vision.tracking import TrackedSubject
from vision.types import EventPhase, ViolationEvent

# pests must move during their run to raise an event (a stain or a nail does not)
MOVING_KINDS = frozenset({ViolationKind.RODENT, ViolationKind.COCKROACH})
# A run of these opens no event until the person's face was seen on one of its frames, or until
# the condition has held on every observation for min_duration_s without a break: from behind, a
# dark cap on dark hair (or a hairnet over it) looks like a bare head on some frames, not on all.
# docs/evaluation.md, "A bare head seen only from behind".
NEEDS_FACE = frozenset({ViolationKind.NO_HAT})


@dataclass(frozen=True, slots=True)
class Evidence:
    """What shows an open event on one frame: its subject box, the deciding box, confidence.

    The clip recorder keeps the frame with the most confident evidence as the event's snapshot.
    """

    event_id: str
    confidence: float
    subject_xyxy: BoxXYXY
    evidence_xyxy: BoxXYXY


def _moved(first: BoxXYXY | None, now: BoxXYXY) -> bool:
    """Whether a box's centre went further than a third of its size (at least 3 px)."""
    if first is None:
        return False
    dx = (now[0] + now[2] - first[0] - first[2]) / 2
    dy = (now[1] + now[3] - first[1] - first[3]) / 2
    size = max(first[2] - first[0], first[3] - first[1])
    return float(np.hypot(dx, dy)) >= max(3.0, size / 3)


def rule_version(rules: CameraRules) -> str:
    """A short stable hash of the camera's rule configuration, stored on every event."""
    return "rules-" + hashlib.sha1(rules.model_dump_json().encode()).hexdigest()[:10]


class RuleEngine(SubjectContinuity):
    """Turns per-frame observations into open/update/close events for one camera.

    Call ``evaluate`` on every frame the detector ran on, in time order; frames it skipped are
    simply not observations. ``flush`` closes whatever is still open (shutdown, end of file).
    """

    def __init__(
        self,
        camera_id: str,
        rules: CameraRules,
        *,
        model_version: str = "",
        update_every_s: float = 5.0,
        vote_window: int = 5,
        sample_every_s: float = 0.25,
        frame_s: float = 0.0,
        open_confidence: float = 0.4,
        detect_interval_s: float = 0.0,
        unseen_hold_s: float = 2.0,
    ) -> None:
        self.camera_id = camera_id
        self.frame_s = frame_s  # one frame's duration: a run of n frames lasts n * frame_s
        # A run whose evidence never reached this confidence does not open an event: the
        # detector's weakest boxes may keep a run going but cannot raise an alarm on their own.
        self.open_confidence = open_confidence
        # When the detector runs only every so often, a gap seen between two detections can be
        # up to that much longer than the real one: grace is widened by it.
        self.detect_interval_s = detect_interval_s
        # Absence is what the detector *sees* (a hat, a mask, uniform, a closed lid); when the
        # subject or its deciding box is simply not found (a cockroach the detector misses for a
        # few frames, a face turned away), the run is held this much longer than grace before it
        # ends: one incident with a detection gap stays one event. ``ended_s`` is still the last
        # frame where the condition held.
        self.unseen_hold_s = unseen_hold_s
        self.rules = rules
        self.model_version = model_version
        self.rule_version = rule_version(rules)
        self.update_every_s = update_every_s
        self.vote_window = vote_window
        self.sample_every_s = sample_every_s
        self._last_ts = 0.0
        self.evidence: list[Evidence] = []  # of the last evaluated frame, for open events
        # what SubjectContinuity reads (declared there)
        self._states = {}
        self._present = set()
        self._holding = set()
        self._frame_holding = []
        self._handed = {}
        self._frame_w = 640.0
        self._looks = {}

    @property
    def open_events(self) -> list[ViolationEvent]:
        return [s.event for s in self._states.values() if s.event is not None]

    @property
    def has_pending(self) -> bool:
        """Whether any run or event is in progress (the detector should keep running)."""
        return any(s.run_start_s is not None or s.event is not None for s in self._states.values())

    def has_pending_except(
        self, kinds: frozenset[ViolationKind], *, or_voted: bool = False, skip_reported: bool = False
    ) -> bool:
        """Whether a run or event of a kind outside ``kinds`` is in progress; with ``or_voted``,
        also when its condition held on one of a subject's recent observations (suspected).
        With ``skip_reported``, an event already open on a person does not count: it is reported,
        and following it needs no more looks than following anyone else (pests always count)."""
        return any(
            (s.run_start_s is not None or s.event is not None or (or_voted and any(s.votes)))
            and kind not in kinds
            and not (skip_reported and s.event is not None and kind not in MOVING_KINDS)
            for (_, kind), s in self._states.items()
        )

    def has_young_run(self, kinds: frozenset[ViolationKind], ts_s: float, extra_s: float) -> bool:
        """Whether a run of one of ``kinds`` has no event yet and is at most its minimum duration
        plus ``extra_s`` old: the looks that decide when it opens."""
        return any(
            kind in kinds
            and s.event is None
            and s.run_start_s is not None
            and ts_s - s.run_start_s <= self.rules.params(kind).min_duration_s + extra_s
            for (_, kind), s in self._states.items()
        )

    def evaluate(
        self,
        ts_s: float,
        subjects: Sequence[TrackedSubject],
        frame_wh: tuple[int, int],
        wall: datetime | None = None,
        *,
        only: frozenset[ViolationKind] | None = None,
    ) -> list[ViolationEvent]:
        """Observe ``subjects`` at ``ts_s``; return the events that opened, updated or closed.

        ``only``: a look for these kinds alone (the pests' extra looks): the runs of other kinds
        are neither observed nor timed out on it."""
        self._last_ts = ts_s
        self.evidence = []
        self._present = {s.track.track_id for s in subjects}
        self._looks = {s.track.track_id: s.look for s in subjects if s.look is not None}
        self._frame_w = float(frame_wh[0])
        emitted = self._close_expired(ts_s, only)
        observations = [obs for subject in subjects for obs in observe(subject, self.rules, frame_wh, wall)]
        if only is not None:
            observations = [o for o in observations if o.kind in only]
        self._frame_holding = [o for o in observations if o.holds]
        self._holding = {(o.track_id, o.kind) for o in self._frame_holding}
        for obs in observations:
            emitted.extend(self._apply(ts_s, obs))
        self._purge(ts_s)
        return emitted

    def flush(self) -> list[ViolationEvent]:
        """Close every open event now (end of input or shutdown)."""
        out = []
        for state in self._states.values():
            if state.event is not None:
                out.append(self._close(state))
            state.run_start_s = None
        return out

    def _apply(self, ts: float, obs: Observation) -> list[ViolationEvent]:
        state = self._state_for(ts, obs)
        state.last_seen_s = ts
        state.votes.append(obs.holds)
        if not obs.holds:
            state.first_true_s = None
            state.last_false_s = ts
            return []
        first_box = obs.subject_xyxy
        if state.first_true_s is None:
            state.first_true_s = ts
            if obs.kind in MOVING_KINDS and obs.spawned is not None and obs.spawned[0] < ts:
                # A pest is its own evidence: it was there on the detection that started its
                # track, one look before the tracker confirmed it (no event for the look itself).
                state.first_true_s, first_box = obs.spawned
        if 2 * sum(state.votes) <= len(state.votes):
            return []  # a stray frame: not the majority of recent observations
        if state.run_start_s is None:
            state.run_start_s = state.first_true_s
            state.run_confidence = 0.0
            state.run_first_box, state.run_moved = first_box, False
            state.run_first_evidence = first_box if obs.kind in MOVING_KINDS else obs.evidence_xyxy
            state.run_facing = False
            state.run_look, state.run_looks = None, 0
        look = self._looks.get(obs.track_id)
        if look is not None:
            state.run_look = blend(state.run_look, look, state.run_looks)
            state.run_looks += 1
        state.run_confidence = max(state.run_confidence, obs.confidence)
        state.run_moved = state.run_moved or _moved(state.run_first_box, obs.subject_xyxy)
        state.run_facing = state.run_facing or obs.facing
        state.last_true_s = ts
        state.last_box = obs.subject_xyxy
        state.last_evidence = obs.evidence_xyxy
        params = self.rules.params(obs.kind)
        if state.event is None:
            out = self._maybe_open(ts, obs, state, params.min_duration_s, params.cooldown_s)
        else:
            out = self._extend(ts, obs, state)
        if state.event is not None:
            self.evidence.append(
                Evidence(state.event.id, obs.confidence, obs.subject_xyxy, obs.evidence_xyxy)
            )
        return out

    def _maybe_open(
        self, ts: float, obs: Observation, state: RunState, min_duration_s: float, cooldown_s: float
    ) -> list[ViolationEvent]:
        assert state.run_start_s is not None
        if not self._lasted(ts, state.run_start_s, min_duration_s):
            return []
        if state.run_confidence < self.open_confidence:
            return []
        if obs.kind in MOVING_KINDS and not state.run_moved:
            return []  # a rat or cockroach that never moves is a stain, a nail, a shadow
        if obs.kind in NEEDS_FACE and not state.run_facing and not self._unbroken(ts, state, min_duration_s):
            return []  # a bare head seen only from behind, on and off: a dark cap on dark hair
        if self._in_cooldown(ts, obs.kind, state):
            return []  # same subject and kind closed recently: no second event
        if self._shown_by_open_event(ts, obs, state):
            return []  # a second box on a subject that already has this event (one incident)
        ended = self._closed_nearby(ts, obs, state, cooldown_s)
        if ended is not None:
            # its subject was lost for longer than grace and found again: the cooldown of that
            # subject's event is this run's from now on (even if the old id comes back in view)
            state.last_end_s = max(ended, state.last_end_s or ended)
            return []
        state.event = ViolationEvent(
            kind=obs.kind,
            severity=self.rules.severity(obs.kind),
            camera_id=self.camera_id,
            track_id=obs.track_id,
            started_s=state.run_start_s,
            updated_s=ts,
            confidence=obs.confidence,
            xyxy=obs.subject_xyxy,
            phase=EventPhase.OPEN,
            opened_s=ts,
            model_version=self.model_version,
            rule_version=self.rule_version,
        )
        self._sample(state.event, ts, obs.subject_xyxy)
        state.last_emit_s = ts
        return [dataclasses.replace(state.event, track_boxes=list(state.event.track_boxes))]

    def _lasted(self, ts: float, since_s: float, min_duration_s: float) -> bool:
        """Whether what began at ``since_s`` has lasted ``min_duration_s`` at ``ts``, counting the
        frame at ``ts`` itself (``frame_s``), as the ground truth counts frames."""
        return ts - since_s + self.frame_s >= min_duration_s - 1e-9

    def _unbroken(self, ts: float, state: RunState, min_duration_s: float) -> bool:
        """Whether the condition has held on every observation of the last ``min_duration_s``.

        ``first_true_s`` is where the current streak began: any observation where it did not hold
        resets it (frames without an observation, a head box not found, do not)."""
        return state.first_true_s is not None and self._lasted(ts, state.first_true_s, min_duration_s)

    def _in_cooldown(self, ts: float, kind: ViolationKind, state: RunState) -> bool:
        return state.last_end_s is not None and ts < state.last_end_s + self.rules.params(kind).cooldown_s

    def _extend(self, ts: float, obs: Observation, state: RunState) -> list[ViolationEvent]:
        event = state.event
        assert event is not None
        event.updated_s = ts
        event.xyxy = obs.subject_xyxy
        event.confidence = max(event.confidence, obs.confidence)
        event.phase = EventPhase.UPDATE
        self._sample(event, ts, obs.subject_xyxy)
        if ts - state.last_emit_s < self.update_every_s:
            return []
        state.last_emit_s = ts
        return [dataclasses.replace(event, track_boxes=list(event.track_boxes))]

    def _sample(self, event: ViolationEvent, ts: float, box: BoxXYXY) -> None:
        if not event.track_boxes or ts - event.track_boxes[-1][0] >= self.sample_every_s:
            event.track_boxes.append((ts, *box))

    def _close_expired(self, ts: float, only: frozenset[ViolationKind] | None = None) -> list[ViolationEvent]:
        out = []
        for (_, kind), state in self._states.items():
            if only is not None and kind not in only:
                continue
            grace = self._grace(kind, state) + 1e-9
            if state.run_start_s is None or ts - state.last_true_s <= grace:
                continue
            streak = state.first_true_s
            if streak is not None and state.last_true_s < streak <= state.last_true_s + grace:
                continue  # the condition is back within grace; its vote is still being counted
            if state.event is not None:
                out.append(self._close(state))
            state.run_start_s = None
            state.first_true_s = None
            state.votes.clear()
        return out

    def _grace(self, kind: ViolationKind, state: RunState) -> float:
        """How long after its last true frame a run ends: ``grace_s`` once the absence has been
        seen, ``unseen_hold_s`` more while the subject has only gone unseen."""
        grace = self.rules.params(kind).grace_s + self.detect_interval_s
        return grace if state.last_false_s > state.last_true_s else grace + self.unseen_hold_s

    def _close(self, state: RunState) -> ViolationEvent:
        event = state.event
        assert event is not None
        event.ended_s = state.last_true_s
        event.updated_s = state.last_true_s
        event.phase = EventPhase.CLOSE
        state.last_end_s = state.last_true_s
        state.event = None
        return event

    def _purge(self, ts: float) -> None:
        """Drop the state of subjects long gone, so memory stays flat on a camera that runs for days."""
        stale = [
            key
            for key, s in self._states.items()
            if s.event is None
            and s.run_start_s is None
            and ts - s.last_seen_s > self.rules.params(key[1]).cooldown_s + self.rules.params(key[1]).grace_s
        ]
        for key in stale:
            del self._states[key]
        self._handed = {old: new for old, new in self._handed.items() if new[0] in self._states}
