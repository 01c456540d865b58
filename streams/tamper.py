"""``camera_tampered``: a lens covered, a view moved or blurred, told from scene statistics.

A tampered camera still sends frames, so the offline monitor cannot see it. What changes is
the picture itself, suddenly and for good: contrast collapses (covered, sprayed), edges vanish
(defocused, smeared) or the scene no longer matches the view the camera had (turned away).
People walking past change the picture too, but only for a moment and only in part, so the
test compares a slowly learned reference against the current frame and asks for the change to
last ``min_duration_s`` (the ``camera_tampered`` rule), then ``grace_s`` of normal frames to end.

Statistics are computed on a small grey copy (about 2 ms per check) at ``check_fps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from vision.kinds import Severity, ViolationKind
from vision.sink import EventSink
from vision.types import EventPhase, Frame, ViolationEvent

_SMALL_WH = (96, 54)


class TamperCause(StrEnum):
    COVERED = "covered"
    BLURRED = "blurred"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class SceneStats:
    mean: float
    std: float
    edge: float  # mean |Laplacian| of the small grey frame
    small: npt.NDArray[np.float32]  # zero-mean, unit-norm small frame for correlation

    @classmethod
    def of(cls, image: npt.NDArray[np.uint8]) -> SceneStats:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        small = cv2.resize(grey, _SMALL_WH, interpolation=cv2.INTER_AREA).astype(np.float32)
        edge = float(np.mean(np.abs(cv2.Laplacian(small, cv2.CV_32F))))
        mean, std = float(small.mean()), float(small.std())
        centred = cv2.GaussianBlur(small, (5, 5), 0) - mean
        norm = float(np.linalg.norm(centred)) or 1.0
        return cls(mean, std, edge, centred / norm)


@dataclass(frozen=True, slots=True)
class TamperThresholds:
    min_std: float = 6.0  # grey levels: below this the lens sees a flat field
    std_ratio: float = 0.35  # contrast fallen below this share of the reference
    edge_ratio: float = 0.35  # edge energy fallen below this share of the reference
    min_correlation: float = 0.45  # similarity to the reference view
    learn_s: float = 3.0  # seconds of frames to learn the first reference
    adapt: float = 0.05  # EMA weight of a normal frame in the reference
    rebaseline_after_s: float = 600.0  # a moved view that stays is the new normal afterwards


class TamperDetector:
    """Feeds on frames, emits ``camera_tampered`` open/close events through ``sink``.

    >>> det = TamperDetector("cam-1", sink, min_duration_s=3, grace_s=2)  # doctest: +SKIP
    >>> det.update(frame)  # doctest: +SKIP
    """

    def __init__(
        self,
        camera_id: str,
        sink: EventSink,
        *,
        min_duration_s: float = 3.0,
        grace_s: float = 2.0,
        check_fps: float = 2.0,
        severity: Severity = Severity.RED,
        thresholds: TamperThresholds | None = None,
        rule_version: str = "",
    ) -> None:
        self.camera_id = camera_id
        self.sink = sink
        self.min_duration_s = min_duration_s
        self.grace_s = grace_s
        self.period_s = 1.0 / check_fps
        self.severity = severity
        self.th = thresholds or TamperThresholds()
        self.rule_version = rule_version
        self._ref: SceneStats | None = None
        self._learn_from: float | None = None
        self._last_check: float | None = None
        self._abnormal_since: float | None = None
        self._normal_since: float | None = None
        self.cause: TamperCause | None = None
        self.event: ViolationEvent | None = None

    def classify(self, stats: SceneStats) -> TamperCause | None:
        """Which kind of tampering the statistics show against the reference, if any."""
        ref = self._ref
        if ref is None:
            return None
        if stats.std < max(self.th.min_std, self.th.std_ratio * ref.std):
            return TamperCause.COVERED
        if stats.edge < self.th.edge_ratio * ref.edge:
            return TamperCause.BLURRED
        if float(np.sum(stats.small * ref.small)) < self.th.min_correlation:
            return TamperCause.MOVED
        return None

    def update(self, frame: Frame) -> ViolationEvent | None:
        """Check the frame (at most ``check_fps``); returns the open event, if any."""
        t = frame.ts_s
        if self._last_check is not None and t - self._last_check < self.period_s:
            return self.event
        self._last_check = t
        stats = SceneStats.of(frame.image)
        if self._learn(stats, t):
            return None
        cause = self.classify(stats)
        if cause is None:
            self._on_normal(stats, frame)
        else:
            self._on_abnormal(cause, stats, frame)
        return self.event

    def _learn(self, stats: SceneStats, t: float) -> bool:
        if self._learn_from is None:
            self._learn_from = t
        if t - self._learn_from >= self.th.learn_s and self._ref is not None:
            return False
        self._blend(stats, 0.3)
        return True

    def _blend(self, stats: SceneStats, w: float) -> None:
        ref = self._ref
        if ref is None:
            self._ref = stats
            return
        small = (1 - w) * ref.small + w * stats.small
        small = small / (float(np.linalg.norm(small)) or 1.0)
        self._ref = SceneStats(
            (1 - w) * ref.mean + w * stats.mean,
            (1 - w) * ref.std + w * stats.std,
            (1 - w) * ref.edge + w * stats.edge,
            small.astype(np.float32),
        )

    def _on_normal(self, stats: SceneStats, frame: Frame) -> None:
        self._abnormal_since = None
        self._blend(stats, self.th.adapt)
        if self.event is None:
            return
        if self._normal_since is None:
            self._normal_since = frame.ts_s
        if frame.ts_s - self._normal_since >= self.grace_s:
            self._close(self._normal_since)

    def _on_abnormal(self, cause: TamperCause, stats: SceneStats, frame: Frame) -> None:
        self._normal_since = None
        t = frame.ts_s
        if self._abnormal_since is None:
            self._abnormal_since = t
        self.cause = cause
        if self.event is None and t - self._abnormal_since >= self.min_duration_s:
            self._open(self._abnormal_since, t, frame)
        elif self.event is not None and cause is TamperCause.MOVED:
            if t - self.event.started_s >= self.th.rebaseline_after_s:
                self._ref = stats  # the camera was re-aimed for good: learn the new view
        if self.event is not None:
            self.event.updated_s = t

    def _open(self, start_s: float, now_s: float, frame: Frame) -> None:
        wall = None if frame.wall_time is None else frame.wall_time - (now_s - start_s)
        self.event = ViolationEvent(
            kind=ViolationKind.CAMERA_TAMPERED,
            severity=self.severity,
            camera_id=self.camera_id,
            track_id=0,
            started_s=start_s,
            updated_s=now_s,
            confidence=1.0,
            xyxy=(0.0, 0.0, float(frame.image.shape[1]), float(frame.image.shape[0])),
            rule_version=self.rule_version,
            started_wall=wall,
        )
        self.sink.emit(self.event)

    def _close(self, end_s: float) -> None:
        event, self.event = self.event, None
        if event is None:
            return
        event.ended_s = end_s
        event.phase = EventPhase.CLOSE
        self.cause = None
        self.sink.emit(event)

    def close(self) -> None:
        """On shutdown, close an open event at the last time it was seen."""
        if self.event is not None:
            self._close(self.event.updated_s)
