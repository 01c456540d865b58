"""Builds each camera's vision pipeline for the runtime.

The vision layer owns the per-camera pipeline (motion gate, tracker, rules, clips); this module
only wires it to what the runtime provides: the shared detector's client for the camera, the
camera's rules and site time zone, a media folder, and the event sink. The pipeline receives
frames at the camera's ``detect_fps``; its clips are cut from the stream's own packets at the
full frame rate (``copy_clips``, wired by the worker), else encoded from those frames.

When the build has no vision pipeline, ``DetectionOnlyPipeline`` still runs the shared detector
on every frame it is given, so the runtime and the benchmark measure real detection load.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from streams.worker import FramePipeline, PipelineContext
from vision.detector import Detector
from vision.sink import EventSink
from vision.types import Frame, ViolationEvent


class DetectionOnlyPipeline:
    """Runs the detector on each frame it is given; no tracking, rules or clips."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.frames = 0

    def process(self, frame: Frame) -> object:
        self.frames += 1
        return self.detector.detect([frame.image])[0]

    def close(self) -> None:
        return None


class CameraSink:
    """The shared sink as one camera sees it: ``close`` is the runtime's job, not the camera's."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink

    def emit(self, event: ViolationEvent) -> None:
        self.sink.emit(event)

    def close(self) -> None:
        return None


def vision_pipeline_factory(ctx: PipelineContext) -> FramePipeline:
    try:
        from vision.pipeline import CameraPipeline, CameraSetup
    except ImportError:  # pragma: no cover - a build without the vision pipeline
        return DetectionOnlyPipeline(ctx.detector)
    setup = CameraSetup(
        camera_id=ctx.camera.id,
        media_dir=ctx.media_dir / ctx.site.id / ctx.camera.id,
        rules=ctx.camera.rules,
        tz=ZoneInfo(ctx.site.timezone),
        fps=ctx.camera.detect_fps,
        calm_detect_fps=ctx.camera.calm_detect_fps,
        calm_when_reported=ctx.camera.calm_when_reported,
    )
    return CameraPipeline(setup, ctx.detector, CameraSink(ctx.sink))
