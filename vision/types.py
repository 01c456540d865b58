"""Typed values that cross every boundary of the vision layer.

No tuples or dicts travel through queues: a frame is a ``Frame``, detections are supervision
``Detections`` (parallel numpy arrays), a tracked subject is a ``Track`` and a violation is a
``ViolationEvent``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from vision.kinds import Severity, ViolationKind


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame. ``ts_s`` is seconds from the start of the source (monotonic)."""

    camera_id: str
    ts_s: float
    image: npt.NDArray[np.uint8]  # BGR, HxWx3
    index: int = 0
    wall_time: float | None = None  # unix seconds when the frame was read, if live

    @property
    def size_wh(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class Track:
    """A tracked object on one camera: id, class and its latest box in pixels."""

    camera_id: str
    track_id: int
    class_name: str
    xyxy: tuple[float, float, float, float]
    confidence: float
    ts_s: float
    # On a track's first confirmed frame only: when and where the detection that started it was
    # seen (ByteTrack confirms a track on its second detection, one detector look later).
    spawned: tuple[float, tuple[float, float, float, float]] | None = None


class EventPhase(StrEnum):
    OPEN = "open"
    UPDATE = "update"
    CLOSE = "close"


@dataclass(slots=True)
class ViolationEvent:
    """One violation of one subject: opened after ``min_duration``, closed after ``grace``."""

    kind: ViolationKind
    severity: Severity
    camera_id: str
    track_id: int
    started_s: float
    updated_s: float
    confidence: float
    xyxy: tuple[float, float, float, float]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ended_s: float | None = None
    phase: EventPhase = EventPhase.OPEN
    snapshot_path: str | None = None
    clip_path: str | None = None
    model_version: str = ""
    rule_version: str = ""
    started_wall: float | None = None  # unix time of the start, for live cameras
    # When the event was opened (emitted with phase OPEN), seconds on the source's clock: the
    # start is backdated to the first evidence, so ``opened_s - started_s`` >= ``min_duration``.
    opened_s: float | None = None
    # Samples of the subject's box while the event held, ``(ts_s, x1, y1, x2, y2)`` every few
    # tenths of a second: event-level evaluation matches subjects by these (docs/evaluation.md).
    track_boxes: list[tuple[float, float, float, float, float]] = field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return self.ended_s is not None
