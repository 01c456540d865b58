"""RuleEngine on timelines built from plain lists: persistence, grace, cooldown, unknowns, zones."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from tests.vision.rule_replay import (
    FPS,
    PERSON_BOX,
    WH,
    closed,
    frames,
    person,
    run,
    thing,
)
from vision.geometry import point_in_polygon
from vision.kinds import Severity, ViolationKind
from vision.observe import feet_in_zone
from vision.rule_config import CameraRules, RuleParams, WorkingHours, Zone
from vision.rules import RuleEngine
from vision.tracking import TrackedSubject
from vision.types import EventPhase, Track


def test_no_hat_opens_after_min_duration_backdated_and_closes_after_grace() -> None:
    timeline = frames(10, person(1, "head_hat")) + frames(35, person(1, "head_bare")) + frames(40, person(1))
    events = run(timeline)
    kinds = [(e.phase, e.kind) for e in events]
    assert (EventPhase.OPEN, ViolationKind.NO_HAT) in kinds
    opened = next(e for e in events if e.phase is EventPhase.OPEN)
    assert opened.started_s == pytest.approx(1.0)  # first bare frame, not the opening frame
    assert opened.updated_s == pytest.approx(3.0)  # opened once it lasted min_duration (2 s)
    assert opened.opened_s == pytest.approx(3.0)
    assert opened.severity is Severity.ORANGE and opened.model_version == "m1"
    (done,) = closed(events, ViolationKind.NO_HAT)
    assert done.id == opened.id
    assert done.ended_s == pytest.approx(4.4)  # last bare frame
    assert done.track_boxes[0][0] == pytest.approx(3.0) and done.track_boxes[0][1:] == PERSON_BOX


@pytest.mark.parametrize(("bare_frames", "events"), [(19, 0), (20, 1)])
def test_min_duration_counts_frames_like_the_ground_truth(bare_frames: int, events: int) -> None:
    # 20 frames at 10 fps last 2.0 s (first to last frame is 1.9 s, plus the last frame itself)
    engine = RuleEngine("cam", CameraRules(), frame_s=1 / FPS)
    out = []
    for i in range(60):
        out += engine.evaluate(i / FPS, [person(1, "head_bare" if i < bare_frames else "head_hat")], WH)
    assert len(closed(out + engine.flush())) == events


def test_run_shorter_than_min_duration_makes_no_event() -> None:
    assert closed(run(frames(15, person(1, "head_bare")) + frames(30, person(1, "head_hat")))) == []


@pytest.mark.parametrize(
    ("gap_frames", "expected_events"),
    [(5, 1), (20, 1), (21, 2), (40, 2)],  # grace 2 s = 20 frames: a gap up to it merges (as the GT)
)
def test_grace_merges_short_gaps(gap_frames: int, expected_events: int) -> None:
    rules = CameraRules(
        overrides={ViolationKind.NO_HAT: RuleParams(min_duration_s=1.0, grace_s=2.0, cooldown_s=0)}
    )
    bare = frames(15, person(1, "head_bare"))
    # the gap is frames where the hat is seen: the condition is observed not to hold
    timeline = bare + frames(gap_frames - 1, person(1, "head_hat")) + bare
    events = closed(run(timeline, rules), ViolationKind.NO_HAT)
    assert len(events) == expected_events


@pytest.mark.parametrize(
    ("gap_frames", "expected_events"),
    [(20, 1), (40, 1), (41, 2), (60, 2)],  # grace 2 s + unseen hold 2 s = 40 frames
)
def test_an_unseen_subject_is_held_longer_than_one_seen_without_the_condition(
    gap_frames: int, expected_events: int
) -> None:
    """A cockroach the detector misses for 3 s is not a cockroach gone: one incident, one event,
    which still ends at the last frame where it was seen."""
    rules = CameraRules(
        overrides={ViolationKind.COCKROACH: RuleParams(min_duration_s=0.5, grace_s=2.0, cooldown_s=0)}
    )
    roach = frames(15, thing(7, "cockroach"))
    timeline = roach + [[] for _ in range(gap_frames - 1)] + roach
    events = closed(run(timeline, rules), ViolationKind.COCKROACH)
    assert len(events) == expected_events
    assert events[0].ended_s == pytest.approx(1.4 if expected_events == 2 else (15 + gap_frames + 13) / FPS)


def test_cooldown_blocks_second_event_for_same_subject_but_not_other_subject() -> None:
    rules = CameraRules(
        overrides={ViolationKind.NO_HAT: RuleParams(min_duration_s=1.0, grace_s=1.0, cooldown_s=10)}
    )
    bare1 = frames(20, person(1, "head_bare"))
    hat1 = frames(30, person(1, "head_hat"))
    both = frames(20, person(1, "head_bare"), person(2, "head_bare", box=(400.0, 50.0, 460.0, 250.0)))
    events = closed(run(bare1 + hat1 + both, rules), ViolationKind.NO_HAT)
    assert sorted(e.track_id for e in events) == [1, 2]


def test_cooldown_expires() -> None:
    rules = CameraRules(
        overrides={ViolationKind.NO_HAT: RuleParams(min_duration_s=1.0, grace_s=1.0, cooldown_s=3)}
    )
    timeline = (
        frames(20, person(1, "head_bare"))
        + frames(40, person(1, "head_hat"))
        + frames(20, person(1, "head_bare"))
    )
    assert len(closed(run(timeline, rules), ViolationKind.NO_HAT)) == 2


def test_unknown_head_is_no_condition() -> None:
    events = run(frames(60, person(1)))  # a person seen from behind: no head box
    assert [e for e in events if e.kind in (ViolationKind.NO_HAT, ViolationKind.NO_MASK)] == []


def test_single_frame_flicker_does_not_count() -> None:
    # a hat wearer with a stray "bare" frame every third frame: never the majority
    timeline = [[person(1, "head_bare" if i % 3 == 0 else "head_hat")] for i in range(80)]
    assert closed(run(timeline), ViolationKind.NO_HAT) == []


@pytest.mark.parametrize(
    ("cls", "attrs", "kind", "severity"),
    [
        ("rat", (), ViolationKind.RODENT, Severity.RED),
        ("cockroach", (), ViolationKind.COCKROACH, Severity.RED),
        ("bin_open", (), ViolationKind.OPEN_BIN, Severity.YELLOW),
        ("person", ("cigarette",), ViolationKind.SMOKING, Severity.RED),
        ("person", ("phone",), ViolationKind.PHONE, Severity.YELLOW),
        ("person", ("face_bare",), ViolationKind.NO_MASK, Severity.ORANGE),
        ("person", ("street_clothes",), ViolationKind.NO_UNIFORM, Severity.YELLOW),
    ],
)
def test_each_kind_from_its_deciding_box(
    cls: str, attrs: tuple[str, ...], kind: ViolationKind, severity: Severity
) -> None:
    subject = person(7, *attrs) if cls == "person" else thing(7, cls)
    events = closed(run(frames(70, subject)))
    assert [(e.kind, e.severity, e.track_id) for e in events] == [(kind, severity, 7)]


def test_closed_bin_is_no_event_and_disabled_kind_is_silent() -> None:
    assert closed(run(frames(80, thing(3, "bin_closed")))) == []
    rules = CameraRules(overrides={ViolationKind.RODENT: RuleParams(enabled=False)})
    assert closed(run(frames(30, thing(3, "rat")), rules)) == []


def test_stranger_in_restricted_zone_by_feet() -> None:
    zone = Zone(name="store", polygon=[(0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)], restricted=True)
    rules = CameraRules(zones=[zone])
    inside = person(4, "head_hat", box=(400.0, 100.0, 460.0, 300.0))  # feet at (0.67, 0.83)
    head_only_in = person(5, "head_hat", box=(400.0, 10.0, 460.0, 170.0))  # feet at y 0.47: outside
    events = closed(run(frames(30, inside, head_only_in), rules), ViolationKind.STRANGER)
    assert [e.track_id for e in events] == [4]


def test_stranger_outside_working_hours_uses_wall_time() -> None:
    rules = CameraRules(working_hours=WorkingHours())  # 06:00-20:00
    tz = timezone(timedelta(hours=8))
    night = run(frames(30, person(1, "head_hat")), rules, wall0=datetime(2026, 11, 2, 23, 0, tzinfo=tz))
    day = run(frames(30, person(1, "head_hat")), rules, wall0=datetime(2026, 11, 2, 10, 0, tzinfo=tz))
    assert [e.kind for e in closed(night)] == [ViolationKind.STRANGER]
    assert closed(day) == []


def test_update_phase_every_few_seconds_and_flush_closes_open() -> None:
    events = run(frames(150, thing(2, "rat")))  # 15 s, still there at the end
    phases = [e.phase for e in events]
    assert phases[0] is EventPhase.OPEN and phases[-1] is EventPhase.CLOSE
    assert phases.count(EventPhase.UPDATE) == 2  # at +5 s and +10 s after opening
    assert len({e.id for e in events}) == 1
    assert events[-1].ended_s == pytest.approx(14.9)


def test_engine_does_not_mutate_emitted_open_event() -> None:
    events = run(frames(60, thing(2, "rat")))
    opened = events[0]
    assert opened.phase is EventPhase.OPEN and opened.ended_s is None


@pytest.mark.parametrize(
    ("point", "inside"), [((0.5, 0.5), True), ((0.05, 0.5), False), ((0.9, 0.9), False), ((0.3, 0.7), True)]
)
def test_point_in_polygon(point: tuple[float, float], inside: bool) -> None:
    poly = [(0.1, 0.1), (0.8, 0.1), (0.8, 0.8), (0.1, 0.8)]
    assert point_in_polygon(*point, poly) is inside


def test_feet_in_zone_ignores_non_restricted() -> None:
    zone = Zone(name="a", polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    assert not feet_in_zone(PERSON_BOX, WH, [zone])


def test_weak_evidence_alone_never_opens_an_event() -> None:
    weak = TrackedSubject(Track("cam", 3, "cockroach", (300.0, 300.0, 310.0, 306.0), 0.3, 0.0))
    strong = TrackedSubject(Track("cam", 3, "cockroach", (300.0, 300.0, 310.0, 306.0), 0.6, 0.0))
    assert closed(run(frames(40, weak))) == []
    assert len(closed(run(frames(20, weak) + frames(1, strong) + frames(20, weak)))) == 1


def test_a_pest_that_never_moves_raises_nothing() -> None:
    still = TrackedSubject(Track("cam", 3, "cockroach", (300.0, 300.0, 312.0, 306.0), 0.8, 0.0))
    assert closed(run([[still] for _ in range(60)])) == []
    # the same spot, but it runs off after a while: one event, backdated to when it was first seen
    timeline = [[still] for _ in range(20)] + frames(20, still)
    events = closed(run(timeline))
    assert [(e.kind, e.started_s) for e in events] == [(ViolationKind.COCKROACH, 0.0)]


def test_grace_widens_by_the_detection_interval() -> None:
    # detections every 0.2 s: a 2.2 s gap between two detections may hide a real gap of 2.0 s
    rules = CameraRules(
        overrides={ViolationKind.NO_HAT: RuleParams(min_duration_s=1.0, grace_s=2.0, cooldown_s=0)}
    )
    bare = [[person(1, "head_bare")] for _ in range(10)]  # 2 s at 5 detections per second
    timeline = bare + [[person(1, "head_hat")] for _ in range(10)] + bare  # last bare at 1.8, next at 4.0
    for interval, expected in ((0.0, 2), (0.2, 1)):
        engine = RuleEngine("cam", rules, detect_interval_s=interval)
        out = [e for i, subjects in enumerate(timeline) for e in engine.evaluate(i * 0.2, subjects, WH)]
        assert len(closed(out + engine.flush(), ViolationKind.NO_HAT)) == expected


def test_a_bare_head_seen_only_from_behind_and_on_and_off_opens_no_event_until_the_face_is_seen() -> None:
    # from behind, a dark cap on dark hair reads as a bare head on most frames and as a cap on
    # others: by the votes and grace that is one run, but no event while no face is seen; once the
    # face shows, the run (backdated to its first frame) opens the event at once
    def flicker(n: int, facing: bool) -> list[list[TrackedSubject]]:
        return [[person(1, "head_bare" if i % 10 < 7 else "head_hat", facing=facing)] for i in range(n)]

    back = flicker(60, facing=False)
    assert closed(run(back), ViolationKind.NO_HAT) == []
    assert len(closed(run(flicker(60, facing=True)), ViolationKind.NO_HAT)) == 1  # it is a run
    events = run(back[:47] + frames(10, person(1, "head_bare")))
    assert [(e.track_id, e.started_s) for e in closed(events, ViolationKind.NO_HAT)] == [(1, 0.0)]
    opened = [e for e in events if e.phase is EventPhase.OPEN]
    assert opened[0].updated_s == pytest.approx(4.7)  # the first frame with the face
    assert opened[0].opened_s == pytest.approx(4.7)  # what the evaluator's delay runs to


def test_a_bare_head_seen_from_behind_on_every_frame_opens_after_min_duration() -> None:
    # a bare head read as bare on every observation for min_duration_s is a bare head, face or
    # not; frames without a head box (turned away, hidden) do not break it, one cap frame does
    back = frames(40, person(1, "head_bare", facing=False))
    opened = [e for e in run(back) if e.phase is EventPhase.OPEN and e.kind == ViolationKind.NO_HAT]
    assert [(e.started_s, e.opened_s) for e in opened] == [(0.0, pytest.approx(2.0))]
    gaps = [s if i % 3 else [person(1, facing=False)] for i, s in enumerate(back)]  # no head box
    opened = [e for e in run(gaps) if e.phase is EventPhase.OPEN and e.kind == ViolationKind.NO_HAT]
    assert [(e.started_s, e.opened_s) for e in opened] == [(pytest.approx(0.1), pytest.approx(2.2))]
    capped = [[person(1, "head_hat", facing=False)] if i == 15 else s for i, s in enumerate(back)]
    opened = [e for e in run(capped) if e.phase is EventPhase.OPEN and e.kind == ViolationKind.NO_HAT]
    assert [(e.started_s, e.opened_s) for e in opened] == [(0.0, pytest.approx(3.6))]  # 2 s from 1.6


def test_a_pest_run_starts_at_the_detection_that_started_its_track() -> None:
    # the tracker confirms the rat at 1.0 s; it was first detected one look earlier (0.6 s, 8 px
    # to the left): the run starts there, so the event opens min_duration after 0.6 s, not 1.0 s
    rats = frames(20, thing(5, "rat"))
    spawn = (0.6, (292.0, 300.0, 312.0, 310.0))
    first = TrackedSubject(dataclasses.replace(rats[0][0].track, spawned=spawn))
    timeline = [[] for _ in range(10)] + [[first]] + rats[1:]
    events = run(timeline)
    opened = next(e for e in events if e.phase is EventPhase.OPEN)
    assert opened.started_s == pytest.approx(0.6)
    assert opened.opened_s == pytest.approx(1.1)  # 0.6 + min_duration 0.5 (the frame counts)
    without = run([[] for _ in range(10)] + rats)
    assert next(e for e in without if e.phase is EventPhase.OPEN).opened_s == pytest.approx(1.5)
    # a person's condition is not known on a frame the rules never saw: no backdating there
    bare = person(1, "head_bare")
    person_spawned = TrackedSubject(dataclasses.replace(bare.track, spawned=spawn), bare.attributes)
    e = next(
        e
        for e in run([[] for _ in range(10)] + [[person_spawned]] + frames(30, bare))
        if e.phase is EventPhase.OPEN
    )
    assert e.started_s == pytest.approx(1.0)
