"""Whose run is whose: keeping one incident one event when the tracker's ids do not follow people.

The rule engine (``vision.rules``) keeps a ``RunState`` per (subject track, kind). Trackers lose
people behind colleagues, give a returning rat a new id, swap two people's ids in a crowd, or put
a second box on one person. This mixin decides, on each observation, which state it belongs to:

- a new id near where a lost run's deciding box was continues that run (``_orphan``); the nearest
  subject on the frame takes it, not the first one looked at, and a subject inside its own
  cooldown is nobody else's continuation;
- an old id that shows the condition again soon and near takes its run back (``_reclaim``);
- a second box on a subject with an open event raises no event of its own
  (``_shown_by_open_event``), nor does a subject lost for longer than grace and found again near
  where it vanished, while the cooldown lasts (``_closed_nearby``);
- an old id still in view, or back soon, is not always its old subject: the tracker moves ids
  between people in a crowd. Each person's colour look (``vision.appearance``) tells whether the
  person under it now looks like the run's subject, or the new one does (``_id_moved_on``, and
  in ``_reclaim``).

Distances are judged on the deciding boxes (the bare face, the street clothes, the rat), with a
reach that grows at ``REACH_SPEED`` frame widths per second (``_reach``). The numbers behind each
rule are in docs/evaluation.md, "How the pipeline keeps one event per incident".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from vision.appearance import Look, alike
from vision.geometry import BoxXYXY, centre_distance, contained, iou
from vision.kinds import ViolationKind
from vision.observe import Observation
from vision.rule_config import CameraRules
from vision.types import ViolationEvent

# How far (frame widths per second since the old run's subject was last seen) a lost subject may
# reappear and still be the same one: a brisk walk across a kitchen view. Chosen on the tuning set
# (docs/evaluation.md, "Lost and found").
REACH_SPEED = 0.4
# A subject lost for longer than grace (its event closed) and found again within this many seconds'
# walk of where it vanished is the same one while the cooldown lasts (``RuleEngine._closed_nearby``).
REID_REACH_S = 1.0
# A track id still in view whose run closed may have moved to a colleague (ByteTrack in a crowd):
# the new run's subject is the old one's when it looks like it by at least ``SAME_LOOK`` and by
# ``LOOK_MARGIN`` more than the person under the old id now does (``SubjectContinuity._id_moved_on``;
# docs/evaluation.md, "Who is under the old id").
SAME_LOOK = 0.6
LOOK_MARGIN = 0.1
# Kinds whose deciding box is the whole person (a stranger is a person in the wrong place or hour):
# a second box on one person lies (almost) inside the first, two people in a crowd only overlap.
WHOLE_PERSON_KINDS = frozenset({ViolationKind.STRANGER})
# Kinds whose deciding box is a small thing held at the face (a cigarette is a dozen pixels): the
# crops of two people standing together both show it, placed up to ~10 px apart (the hand, the
# glow), so "where" reaches at least ``HELD_REACH`` frame widths (docs/evaluation.md, "One cigarette
# in two crops").
HELD_KINDS = frozenset({ViolationKind.SMOKING, ViolationKind.PHONE})
HELD_REACH = 0.025
CONTAINED = 0.85


@dataclass(slots=True)
class RunState:
    """What the engine knows of one (subject track, kind): votes, the current run, its event."""

    votes: deque[bool] = field(default_factory=lambda: deque(maxlen=5))
    run_start_s: float | None = None
    first_true_s: float | None = None  # first raw-true frame of the current vote streak
    last_true_s: float = 0.0
    last_seen_s: float = 0.0
    event: ViolationEvent | None = None
    last_emit_s: float = 0.0
    last_end_s: float | None = None  # end of the previous event (cooldown)
    last_box: BoxXYXY | None = None  # subject box at the last frame where the condition held
    run_confidence: float = 0.0  # best confidence seen in the current run
    run_first_box: BoxXYXY | None = None  # subject box at the run's first frame
    run_first_evidence: BoxXYXY | None = None  # the deciding box at the run's first frame
    run_moved: bool = False  # the subject moved during the run (pests must: a stain does not)
    run_facing: bool = False  # the subject's face was seen on a true frame of the run
    last_evidence: BoxXYXY | None = None  # the deciding box at the last frame where it held
    last_false_s: float = float("-inf")  # last frame where the condition was seen not to hold
    run_look: Look | None = None  # the subject's mean look over the run's true frames (people)
    run_looks: int = 0  # how many looks went into it


class SubjectContinuity:
    """The hand-over logic of ``vision.rules.RuleEngine`` (which inherits it): the engine's
    per-frame sets and states it reads are declared here; ``_grace`` and ``_in_cooldown`` are the
    engine's timing."""

    rules: CameraRules
    vote_window: int
    _states: dict[tuple[int, ViolationKind], RunState]
    _present: set[int]  # track ids seen on the frame being evaluated
    _holding: set[tuple[int, ViolationKind]]  # (track, kind) holding on it
    _frame_holding: list[Observation]  # the observations holding on it
    # hand-overs of a run to another track: old key -> (new key, when)
    _handed: dict[tuple[int, ViolationKind], tuple[tuple[int, ViolationKind], float]]
    _frame_w: float
    _looks: dict[int, Look]  # each person's look on the frame being evaluated

    def _grace(self, kind: ViolationKind, state: RunState) -> float:
        raise NotImplementedError

    def _in_cooldown(self, ts: float, kind: ViolationKind, state: RunState) -> bool:
        raise NotImplementedError

    def _state_for(self, ts: float, obs: Observation) -> RunState:
        key = (obs.track_id, obs.kind)
        if obs.holds and key in self._handed:
            self._reclaim(ts, key, obs)
        state = self._states.get(key)
        orphan = self._orphan(ts, obs, state) if obs.holds else None
        if orphan is not None:
            state = self._states.pop(orphan)
            state.votes.clear()  # the old id's votes were about someone else
            self._states[key] = state
            self._handed[orphan] = (key, ts)
        elif state is None:
            state = self._states[key] = RunState(deque(maxlen=self.vote_window))
        return state

    def _reclaim(self, ts: float, key: tuple[int, ViolationKind], obs: Observation) -> None:
        """The old track shows the condition again itself, soon and near where its run now is:
        the hand-over was a mistake (a spurious second box on the same person, or a neighbour
        who took the run while the subject was hidden for a moment); the run goes back to it.

        An old id that shows it later than ``REID_REACH_S`` after the hand-over, or further from
        the run's deciding box than a subject walks in that time, is someone else: the tracker
        gave that id to another person. The run stays with the track that took it, and the old
        id starts afresh. Taking it back there moved an open event onto another person and
        raised a second one for its own subject (fresh held-out clips, crowded kitchens). So
        is an old id, however soon and near, when the taker looks like the run's subject by
        ``LOOK_MARGIN`` more than the person now under the old id does (fresh 5, ``heldout_265``:
        two bare-headed cooks cross, and the old id is on the other one).
        """
        taker, handed_s = self._handed.pop(key)
        state = self._states.get(taker)
        if state is None:
            return
        mine, theirs = self._looks_like_run(key[0], state), self._looks_like_run(taker[0], state)
        if mine is not None and theirs is not None and theirs - mine >= LOOK_MARGIN:
            return  # the taker looks like the run's subject, the old id now does not: a colleague
        since = ts - handed_s
        old = state.last_evidence
        if since > REID_REACH_S or (
            old is not None and centre_distance(old, obs.evidence_xyxy) > self._reach(old, since)
        ):
            return
        self._states[key] = self._states.pop(taker)

    def _orphan(self, ts: float, obs: Observation, mine: RunState | None) -> tuple[int, ViolationKind] | None:
        """The older run of the same kind that this track continues, if any.

        A rat that runs behind a crate, a person hidden by another, comes back under a new
        track id; if its run of the same kind lost its subject less than ``grace_s`` ago, near
        where the new one appears, it is the same incident and must not become a second event.
        The old track may still be in view: when people cross or hide one another, the tracker
        can swap their ids, or keep the old id on the person in front. Nearness is judged on
        the deciding box (the bare face, the street clothes, the rat itself), which follows the
        subject better than a person box merged with a neighbour's. A track whose own run is
        still young (not yet an event) gives it up for the older one. If the old id shows the
        condition again later, it takes its run back (``_reclaim``).
        """
        best: tuple[int, ViolationKind] | None = None
        best_d = float("inf")
        for key, s in self._states.items():
            d = self._continues(ts, obs, mine, key, s)
            if d is not None and d < best_d:
                best, best_d = key, d
        if best is not None and self._nearer_claimant(ts, obs, best, best_d):
            return None
        return best

    def _continues(
        self, ts: float, obs: Observation, mine: RunState | None, key: tuple[int, ViolationKind], s: RunState
    ) -> float | None:
        """How far ``obs`` is from the older run ``s`` (of track ``key``) when it may continue it;
        None when it may not (see ``_orphan``)."""
        if mine is not None and mine.event is not None:
            return None  # it has an event of its own
        if key[1] != obs.kind or key[0] == obs.track_id or s.run_start_s is None or s.last_evidence is None:
            return None
        if mine is not None and self._in_cooldown(ts, obs.kind, mine):
            return None  # a subject with its own recent event of this kind is not someone else's
        mine_start = mine.run_start_s if mine is not None else None
        young = mine_start is not None
        gap = ts - s.last_true_s
        if (
            gap > self._grace(obs.kind, s)
            or key in self._holding
            or (mine_start is not None and mine_start <= s.run_start_s)
        ):
            return None  # the old one still holds, or lost it too long ago; only a younger run yields
        if key[0] in self._present and young:
            return None  # in view (ids swapped, or it kept the person in front): only to a new run
        # A young run is judged by where and when it appeared, not by where its subject has
        # gone since: a second rat that comes in elsewhere and runs towards where the first
        # one hid must not take over its event (the reach grows only with the time between).
        old, new, appeared = s.last_evidence, obs.evidence_xyxy, gap
        if mine is not None and mine_start is not None and mine.run_first_evidence is not None:
            new, appeared = mine.run_first_evidence, max(0.0, mine_start - s.last_true_s)
        d = centre_distance(old, new)
        return d if d <= self._reach(old, appeared) else None

    def _nearer_claimant(self, ts: float, obs: Observation, key: tuple[int, ViolationKind], d: float) -> bool:
        """Whether another subject on this frame could continue the run of ``key`` from nearer.

        In a crowd, the subject of a lost run often comes back under a new id on the same frame
        where a neighbour's box (or a weak spurious one) also shows the condition nearby; the
        first observation looked at must not take the run just because it came first.
        """
        s = self._states[key]
        for other in self._frame_holding:
            if other.kind != obs.kind or other.track_id == obs.track_id:
                continue
            d2 = self._continues(ts, other, self._states.get((other.track_id, other.kind)), key, s)
            if d2 is not None and d2 < d:
                return True
        return False

    def _shown_by_open_event(self, ts: float, obs: Observation, mine: RunState) -> bool:
        """Whether another track's open event of this kind shows the same deciding box.

        A person at the frame's edge or half hidden sometimes gets two overlapping boxes with two
        track ids, and the phone, the bare face or the cockroach alternates between them: both
        runs would open an event for one incident. The younger run then raises none while the
        older event is open and its evidence, seen within ``grace_s``, lies where this one's is.
        Where the deciding box is the whole person (``stranger``), "where" means inside it: seven
        people after hours in a storeroom overlap, and each is a stranger.
        """
        new = obs.evidence_xyxy
        for (_, kind), s in self._states.items():
            if kind != obs.kind or s is mine or s.event is None or s.last_evidence is None:
                continue
            if ts - s.last_true_s > self._grace(kind, s):
                continue
            old = s.last_evidence
            if obs.kind in WHOLE_PERSON_KINDS:
                if contained(old, new) >= CONTAINED:
                    return True
                continue
            size = max(old[2] - old[0], old[3] - old[1], new[2] - new[0], new[3] - new[1])
            reach = 0.5 * size
            if obs.kind in HELD_KINDS:
                reach = max(reach, HELD_REACH * self._frame_w)
            if iou(old, new) >= 0.3 or centre_distance(old, new) <= reach:
                return True
        return False

    def _closed_nearby(self, ts: float, obs: Observation, mine: RunState, cooldown_s: float) -> float | None:
        """When an event of this kind closed less than ``cooldown_s`` ago on a subject now gone,
        near where this run appeared: that event's end (None when there is none).

        The tracker sometimes loses a person for longer than ``grace_s`` (hidden behind a
        colleague, a few frames without a box) and finds them again under a new id: their run
        would open a second event for one incident. The cooldown that keeps one subject from
        raising the same kind twice then applies to where they vanished: within ``REID_REACH_S``
        seconds' walk (at ``REACH_SPEED``) of it, the new run raises no event until it expires.
        "Gone" includes an old id still in view on someone else (``_id_moved_on``).
        """
        assert mine.run_start_s is not None
        new = mine.run_first_evidence or obs.evidence_xyxy
        for key, s in self._states.items():
            if key[1] != obs.kind or s is mine or s.event is not None or s.last_end_s is None:
                continue
            if s.last_evidence is None:
                continue
            since = mine.run_start_s - s.last_end_s
            if since < 0 or ts - s.last_end_s > cooldown_s:
                continue
            seconds = min(since, REID_REACH_S)
            if key[0] in self._present:
                if not self._id_moved_on(key[0], s, mine):
                    continue  # its subject is still here: this one is someone else
                seconds = REID_REACH_S  # the look says who it is; where says only roughly
            old = s.last_evidence
            if centre_distance(old, new) <= self._reach(old, seconds):
                return s.last_end_s
        return None

    def _id_moved_on(self, track_id: int, old: RunState, mine: RunState) -> bool:
        """Whether the person now under ``track_id``, whose run ``old`` was, is someone else, and
        the subject of ``mine`` is the one ``old`` was about: the tracker moved the id to a
        colleague in a crowd and gave its subject a new one.

        Judged by looks (``vision.appearance``): the new run's subject must look like the old
        run's (``SAME_LOOK``) and clearly more so than the person under the old id now does
        (``LOOK_MARGIN``). Without looks (no frames, boxes too small) the id is taken to be on
        its subject still.
        """
        now = self._looks_like_run(track_id, old)
        if now is None or old.run_look is None or mine.run_look is None:
            return False
        same = alike(mine.run_look, old.run_look)
        return same >= SAME_LOOK and same - now >= LOOK_MARGIN

    def _looks_like_run(self, track_id: int, state: RunState) -> float | None:
        """How alike the person under ``track_id`` on this frame looks to the subject of ``state``'s
        run (``vision.appearance.alike``); None without a look for either."""
        now = self._looks.get(track_id)
        return None if now is None or state.run_look is None else alike(now, state.run_look)

    def _reach(self, old: BoxXYXY, seconds: float) -> float:
        """How far from its deciding box ``old`` a subject may turn up ``seconds`` later and
        still be the same one: 1.5 box widths, plus ``REACH_SPEED`` frame widths per second."""
        return 1.5 * max(old[2] - old[0], 0.02 * self._frame_w) + REACH_SPEED * self._frame_w * seconds
