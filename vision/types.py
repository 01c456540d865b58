"""Typed values that cross every boundary of the vision layer.

No tuples or dicts travel through queues: a frame is a ``Frame``, detections are supervision
``Detections`` (parallel numpy arrays), a tracked subject is a ``Track`` and a violation is a
``ViolationEvent``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, cast

import cv2
import numpy as np
import numpy.typing as npt

from vision.kinds import Severity, ViolationKind


class Picture(Protocol):
    """A decoded picture not converted to BGR yet (a decoder's YUV frame, see ``vision.decode``)."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    def bgr(self) -> npt.NDArray[np.uint8]:
        """The picture as BGR, HxWx3 (a colour conversion: about as costly as the decoding)."""
        ...

    def grey(self) -> npt.NDArray[np.uint8]:
        """Full-range luma, HxW, as ``cv2.COLOR_BGR2GRAY`` of ``bgr()`` gives (no colour conversion)."""
        ...


class Frame:
    """One decoded frame. ``ts_s`` is seconds from the start of the source (monotonic).

    Built from a BGR ``image``, or from a decoder's ``picture``: then ``image`` is converted on
    first use and kept. Most frames of a file are only seen by the motion gate, which reads
    ``grey`` (the picture's luma plane): they cost a decode and a diff, not a colour conversion.
    """

    __slots__ = ("camera_id", "ts_s", "index", "wall_time", "_image", "_picture")

    def __init__(
        self,
        camera_id: str,
        ts_s: float,
        image: npt.NDArray[np.uint8] | None = None,
        index: int = 0,
        wall_time: float | None = None,  # unix seconds when the frame was read, if live
        *,
        picture: Picture | None = None,
    ) -> None:
        if image is None and picture is None:
            raise ValueError("a Frame needs an image or a picture")
        self.camera_id = camera_id
        self.ts_s = ts_s
        self.index = index
        self.wall_time = wall_time
        self._image = image
        self._picture = picture

    @property
    def image(self) -> npt.NDArray[np.uint8]:
        """BGR, HxWx3."""
        if self._image is None:
            assert self._picture is not None
            self._image = self._picture.bgr()
        return self._image

    @property
    def grey(self) -> npt.NDArray[np.uint8]:
        """Luma, HxW: the picture's own plane when there is one, else converted from ``image``."""
        if self._picture is not None:
            return self._picture.grey()
        img = self.image
        if img.ndim == 2:
            return img
        return cast(npt.NDArray[np.uint8], cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))

    @property
    def converted(self) -> bool:
        """Whether the BGR image exists yet (built with one, or converted since)."""
        return self._image is not None

    @property
    def size_wh(self) -> tuple[int, int]:
        if self._image is None and self._picture is not None:
            return int(self._picture.width), int(self._picture.height)
        return int(self.image.shape[1]), int(self.image.shape[0])

    def __repr__(self) -> str:
        w, h = self.size_wh
        return f"Frame(camera_id={self.camera_id!r}, ts_s={self.ts_s}, index={self.index}, {w}x{h})"


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
