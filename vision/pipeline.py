"""The camera pipeline: frame → motion gate → detector → tracker → rules → clips → sink.

``CameraPipeline`` holds everything that belongs to one camera (gate, tracker, rule engine,
clip recorder, sink); the detector is shared. Work per frame is split in two so frames of
several cameras can share one batched ``detector.detect(images)`` call:

1. ``gate(frame)`` decides whether this frame needs the detector;
2. ``finish(frame, detections)`` tracks, applies the rules, records clips and emits events.

``process_batch`` does both for a list of (pipeline, frame) pairs; ``CameraPipeline.process``
is the one-camera shorthand. ``run_file`` runs a whole video file (see ``vision.decode`` for the
errors it raises; events found before a fault are kept and their clips finalized).

Example::

    pipe = CameraPipeline(CameraSetup("cam-1", media_dir=Path("out/cam-1")), detector, sink)
    for frame in read_frames(path, camera_id="cam-1"):
        pipe.process(frame)
    pipe.close()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import supervision as sv

from vision.appearance import with_looks
from vision.clips import ClipRecorder
from vision.decode import PacketTap, VideoError, VideoInfo, probe, read_frames
from vision.detector import Detector, detect_for_cameras
from vision.kinds import VISUAL_KINDS, ObjectClass, ViolationKind
from vision.motion import GateReason, MotionDecision, MotionGate
from vision.rule_config import CameraRules
from vision.rules import MOVING_KINDS, RuleEngine
from vision.sink import EventSink
from vision.tracking import PEST_GROUPS, CameraTracker
from vision.types import EventPhase, Frame, ViolationEvent

# Kinds whose subject does not move by itself: checked on the periodic recheck, not every frame.
STATIC_KINDS = frozenset({ViolationKind.OPEN_BIN})
NON_PEST_KINDS = frozenset(ViolationKind) - MOVING_KINDS
PEST_CLASSES = frozenset({ObjectClass.RAT.value, ObjectClass.COCKROACH.value})
MOVING_CLASSES = PEST_CLASSES | {ObjectClass.PERSON.value}


class FrameSizeError(ValueError):
    """A camera's frame changed size: zones, tracks and clips assume one geometry."""


@dataclass(frozen=True, slots=True)
class CameraSetup:
    """What the pipeline needs to know about one camera (or one video file)."""

    camera_id: str
    media_dir: Path
    rules: CameraRules = field(default_factory=CameraRules)
    recorded_at: datetime | None = None  # wall time of ts 0 (files); live frames carry their own
    tz: tzinfo | None = None  # site time zone for live wall times (default: recorded_at's, or local)
    fps: float = 15.0
    pre_roll_s: float = 5.0
    post_roll_s: float = 5.0
    recheck_s: float = 1.0
    max_detect_fps: float | None = 5.0  # None: run the detector on every frame that needs it
    calm_detect_fps: float | None = 2.5  # while nothing is suspected (None: max_detect_fps)
    # A person's event that is already open does not keep the camera at the full rate (it is
    # reported); only something new does: a young run, a first frame where a condition holds, a
    # pest. Opt-in: ~18 % fewer detections on the sample set, but a pest that appears meanwhile is
    # first looked at up to one calm interval later (docs/evaluation.md, "Speed and memory").
    calm_when_reported: bool = False
    # While a rat's or cockroach's run is younger than its minimum duration (+ one full-rate look),
    # extra looks between the full-rate ones, up to this many per second in all (None: none): its
    # event opens at the first frame past the minimum instead of up to one full-rate interval
    # later. Those looks track and judge the pests only, so people and bins see the same looks
    # as without them. Costs ~5 looks per pest (docs/evaluation.md, "Pests looked at faster").
    pest_detect_fps: float | None = 15.0


class CameraPipeline:
    """One camera's stages around a shared detector; emits every event phase to ``sink``."""

    def __init__(self, setup: CameraSetup, detector: Detector, sink: EventSink) -> None:
        self.setup = setup
        self.detector = detector
        self.sink = sink
        self.motion = MotionGate(
            zones=setup.rules.zones,
            recheck_s=setup.recheck_s,
            max_detect_fps=setup.max_detect_fps,
            calm_detect_fps=setup.calm_detect_fps if setup.max_detect_fps else None,
            hurry_detect_fps=setup.pest_detect_fps if setup.max_detect_fps else None,
        )
        self.tracker = CameraTracker(setup.camera_id, frame_rate=setup.fps)
        self.rules = RuleEngine(
            setup.camera_id,
            setup.rules,
            model_version=detector.model_version,
            frame_s=1.0 / setup.fps,
            detect_interval_s=self.motion.min_interval_s,
        )
        self.recorder = ClipRecorder(
            setup.media_dir,
            fps=setup.fps,
            pre_roll_s=setup.pre_roll_s,
            post_roll_s=setup.post_roll_s,
            # pre-roll covers the longest persistence of a kind seen in pixels (not camera_offline's 60 s)
            ring_extra_s=max(setup.rules.params(k).min_duration_s for k in VISUAL_KINDS) + 1.0,
        )
        self._size: tuple[int, int] | None = None
        self._last_moving_s = float("-inf")
        self._last_pest_s = float("-inf")
        self._wall_offset: float | None = None  # unix time minus ts_s, when wall time is known
        self.tracker_lost_s = 1.5  # keep detecting this long after a person or pest was seen
        self.frames = 0
        self.closed: list[ViolationEvent] = []
        self._is_closed = False

    def gate(self, frame: Frame) -> MotionDecision:
        """Check the frame's size and ask the motion gate whether to run the detector."""
        if self._size is None:
            self._size = frame.size_wh
        elif frame.size_wh != self._size:
            (w, h), (ew, eh) = frame.size_wh, self._size
            raise FrameSizeError(
                f"camera {frame.camera_id}: frame {frame.index} is {w}x{h}, expected {ew}x{eh}"
            )
        ts = frame.ts_s
        return self.motion.check(
            frame, tracking=self._tracking(ts), alert=self._alert(ts), hurry=self._hurry(ts)
        )

    def _tracking(self, ts_s: float) -> bool:
        moving_recently = ts_s - self._last_moving_s < self.tracker_lost_s
        return moving_recently or self.rules.has_pending_except(STATIC_KINDS)

    def _alert(self, ts_s: float) -> bool:
        """Something is suspected: a run or event (with ``calm_when_reported``, not an event
        already open on a person), a frame where a condition held, a pest seen."""
        pest_recently = ts_s - self._last_pest_s < self.tracker_lost_s
        return pest_recently or self.rules.has_pending_except(
            STATIC_KINDS, or_voted=True, skip_reported=self.setup.calm_when_reported
        )

    def _hurry(self, ts_s: float) -> bool:
        """A pest's run is young (not open, not past its minimum duration and one more look), or
        the last look saw a pest box that no run follows yet (its track confirms on the next)."""
        if self.motion.hurry_interval_s >= self.motion.min_interval_s:
            return False
        if self.rules.has_young_run(MOVING_KINDS, ts_s, self.motion.min_interval_s):
            return True
        seen_last_look = self._last_pest_s == self.motion.last_look_s
        return seen_last_look and not self.rules.has_pending_except(NON_PEST_KINDS)

    @property
    def media_errors(self) -> Sequence[str]:
        """Clips and snapshots that could not be written (disk full...), newest last; their
        events were emitted all the same, without that file."""
        return self.recorder.media_errors

    @property
    def packet_tap(self) -> PacketTap:
        """Where a source sends its encoded packets so clips are cut from them (stream copy)."""
        return self.recorder

    def wall(self, frame: Frame) -> datetime | None:
        if frame.wall_time is not None:
            tz = self.setup.tz or (self.setup.recorded_at.tzinfo if self.setup.recorded_at else None)
            return datetime.fromtimestamp(frame.wall_time, tz=tz)
        if self.setup.recorded_at is not None:
            return self.setup.recorded_at + timedelta(seconds=frame.ts_s)
        return None

    def finish(
        self, frame: Frame, detections: sv.Detections | None, *, pests_only: bool = False
    ) -> list[ViolationEvent]:
        """Track and apply rules (when the detector ran), record clips, emit ready events.

        ``pests_only``: the look was one of the pests' extra ones (``GateReason.HURRY``): only
        the pest trackers and kinds see it, so people and bins keep their cadence."""
        self.frames += 1
        wall = self.wall(frame)
        if wall is not None:
            self._wall_offset = wall.timestamp() - frame.ts_s
        events: list[ViolationEvent] = []
        evidence = []
        if detections is not None:
            groups = PEST_GROUPS if pests_only else None
            subjects = self.tracker.update(detections, ts_s=frame.ts_s, groups=groups)
            if not pests_only:
                subjects = with_looks(subjects, frame.image)
            if any(s.track.class_name in MOVING_CLASSES for s in subjects):
                self._last_moving_s = frame.ts_s
            if _has_class(detections, PEST_CLASSES):
                # any pest box, even one whose track is not confirmed yet: the next look comes
                # at the full rate, so the track is confirmed (and its event opens) sooner
                self._last_pest_s = frame.ts_s
            only = MOVING_KINDS if pests_only else None
            events = self.rules.evaluate(frame.ts_s, subjects, frame.size_wh, wall, only=only)
            evidence = self.rules.evidence
        ready = self.recorder.handle(frame, events, evidence, wall)
        self._emit(ready)
        return ready

    def process(self, frame: Frame) -> list[ViolationEvent]:
        """Gate, detect (batch of one) and finish one frame."""
        return process_batch([(self, frame)])

    def close(self) -> list[ViolationEvent]:
        """Close open events, finalize their clips, emit them and close the sink. Idempotent."""
        if self._is_closed:
            return []
        self._is_closed = True
        ready = self.recorder.close(self.rules.flush())
        try:
            self._emit(ready)
        finally:
            self.sink.close()
        return ready

    def _emit(self, events: Sequence[ViolationEvent]) -> None:
        for event in events:
            if event.started_wall is None and self._wall_offset is not None:
                event.started_wall = event.started_s + self._wall_offset  # unix time of the start
            self.sink.emit(event)
            if event.phase is EventPhase.CLOSE:
                self.closed.append(event)

    @property
    def detect_fraction(self) -> float:
        return self.motion.detect_fraction


def _has_class(detections: sv.Detections, classes: frozenset[str]) -> bool:
    names = detections.data.get("class_name") if detections.data else None
    return names is not None and any(str(n) in classes for n in names)


def process_batch(items: Sequence[tuple[CameraPipeline, Frame]]) -> list[ViolationEvent]:
    """One step for several cameras: gate each frame, one detector call per detector for all
    the frames that need it (cameras normally share one detector: one batched call)."""
    decisions = {id(frame): pipe.gate(frame) for pipe, frame in items}
    need = [(pipe, frame) for pipe, frame in items if decisions[id(frame)].run_detector]
    groups: dict[int, list[tuple[CameraPipeline, Frame]]] = {}
    for pipe, frame in need:
        groups.setdefault(id(pipe.detector), []).append((pipe, frame))
    results: dict[int, sv.Detections] = {}
    for group in groups.values():
        dets = detect_for_cameras(
            group[0][0].detector, [frame.image for _, frame in group], [p.setup.camera_id for p, _ in group]
        )
        if len(dets) != len(group):
            raise RuntimeError(f"detector returned {len(dets)} results for {len(group)} images")
        results.update({id(frame): d for (_, frame), d in zip(group, dets, strict=True)})
    out: list[ViolationEvent] = []
    for pipe, frame in items:
        hurry = decisions[id(frame)].reason is GateReason.HURRY
        out.extend(pipe.finish(frame, results.get(id(frame)), pests_only=hurry))
    return out


@dataclass(slots=True)
class FileResult:
    """What ``run_file`` found: closed events (with media), counts, and the fault if any."""

    path: Path
    events: list[ViolationEvent]
    frames: int
    detect_fraction: float
    duration_s: float
    error: str | None = None
    media_errors: list[str] = field(default_factory=list)  # clips/snapshots not written (disk full)


def run_file(
    path: Path,
    detector: Detector,
    sink: EventSink,
    setup: CameraSetup,
    *,
    progress: Callable[[int, VideoInfo], None] | None = None,
) -> FileResult:
    """Run the pipeline over a video file; on a fault finalize what was found, then raise.

    Clips are cut from the file's own H.264 packets (stream copy) when browsers can play them
    as they are, else re-encoded from the decoded frames (see ``ClipRecorder.start``).

    Raises ``VideoError`` (bad file) with ``FileResult`` of the part before the fault attached
    as ``e.result``; everything in it has been emitted to ``sink`` and its clips are complete.
    """
    info = probe(path)
    if info.fps and abs(info.fps - setup.fps) > 0.01:
        setup = replace(setup, fps=info.fps)
    pipe = CameraPipeline(setup, detector, sink)
    last_ts = 0.0
    error: VideoError | None = None
    try:
        for frame in read_frames(path, camera_id=setup.camera_id, info=info, tap=pipe.packet_tap):
            pipe.process(frame)
            last_ts = frame.ts_s
            if progress is not None:
                progress(pipe.frames, info)
    except VideoError as e:
        error = e
    except FrameSizeError as e:
        error = VideoError(path, str(e))
    finally:
        pipe.close()
    result = FileResult(
        path,
        pipe.closed,
        pipe.frames,
        pipe.detect_fraction,
        last_ts,
        str(error) if error else None,
        list(pipe.media_errors),
    )
    if error is not None:
        error.result = result
        raise error
    return result
