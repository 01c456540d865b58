"""Motion gate: decide per frame whether the detector has to run.

Inference is the expensive step; most kitchen frames are quiet. The gate keeps a running
background of a small grey copy of the frame and thresholds the difference relative to the
frame's own noise level, so a cockroach (a few pixels, low contrast) on a noisy night frame still
shows up while sensor noise does not. Zones marked ``ignore_motion`` (a screen, a window) are
masked out. The detector runs when there is motion, while subjects are being tracked, and on a
periodic recheck (so a static open bin is still seen).

Example::

    gate = MotionGate(zones=rules.zones, recheck_s=1.0)
    decision = gate.check(frame, tracking=bool(active_tracks))
    if decision.run_detector:
        ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from vision.rule_config import Zone
from vision.types import Frame

BoxXYXY = tuple[float, float, float, float]


class GateReason(StrEnum):
    MOTION = "motion"
    TRACKING = "tracking"
    RECHECK = "recheck"
    FIRST = "first"
    HURRY = "hurry"  # between full-rate looks, for the caller's hurry only (a young pest run)
    QUIET = "quiet"


@dataclass(frozen=True, slots=True)
class MotionDecision:
    """The gate's answer for one frame: run the detector or not, and where motion was seen."""

    run_detector: bool
    reason: GateReason
    boxes: tuple[BoxXYXY, ...]  # motion regions in full-frame pixels
    threshold: float  # grey-level threshold used on this frame (diagnostics)
    moving_fraction: float  # fraction of unmasked small-frame pixels that moved


class MotionGate:
    """Cheap background difference on a downscaled grey frame, with an adaptive threshold.

    ``scale`` divides the frame size (2: 640x360 becomes 320x180, an 8x5 px cockroach stays
    4x2 px). ``k_sigma`` is how many noise standard deviations a pixel must differ by;
    ``min_threshold`` is the floor on clean (synthetic or very clean) video.
    """

    def __init__(
        self,
        *,
        zones: Sequence[Zone] = (),
        scale: int = 2,
        k_sigma: float = 5.0,
        min_threshold: float = 3.0,
        min_area_px: int = 6,
        learn_rate: float = 0.1,
        recheck_s: float = 1.0,
        max_detect_fps: float | None = None,
        calm_detect_fps: float | None = None,
        hurry_detect_fps: float | None = None,
    ) -> None:
        if scale < 1:
            raise ValueError("scale must be >= 1")
        self.zones = tuple(z for z in zones if z.ignore_motion)
        self.scale = scale
        self.k_sigma = k_sigma
        self.min_threshold = min_threshold
        self.min_area_px = min_area_px
        self.learn_rate = learn_rate
        self.recheck_s = recheck_s
        # At most this many detections per second (None: every frame that needs one). Rules
        # count seconds, not frames, so 5 detections/s on 15 fps video lose little but cost a third.
        self.min_interval_s = 1.0 / max_detect_fps if max_detect_fps else 0.0
        # While nothing is suspected (no violation run, no candidate frame, no pest), people
        # moving about are only followed: this slower rate suffices until a condition shows.
        self.calm_interval_s = max(self.min_interval_s, 1.0 / calm_detect_fps if calm_detect_fps else 0.0)
        # While the caller is in a hurry (a pest's run has not reached its minimum duration yet),
        # extra looks (``GateReason.HURRY``) come at this faster rate between the full-rate ones,
        # which keep their own clock: what the caller follows at the full rate sees no change.
        self.hurry_interval_s = (
            min(self.min_interval_s, 1.0 / hurry_detect_fps) if hurry_detect_fps else self.min_interval_s
        )
        self._background: npt.NDArray[np.float32] | None = None
        self._mask: npt.NDArray[np.uint8] | None = None
        self._unmasked = 0  # pixels of the small frame outside the ignore zones
        self._last_detect_ts: float | None = None  # the last look at the full (or calm) rate
        self._last_look_ts: float | None = None  # the last look of any kind
        self._sigma: float | None = None
        self._sigma_jumps = 0
        self.frames_seen = 0
        self.frames_detected = 0

    @property
    def last_look_s(self) -> float | None:
        """When the gate last let a frame through to the detector (any reason)."""
        return self._last_look_ts

    def reset(self) -> None:
        self._background = None
        self._last_detect_ts = None
        self._last_look_ts = None
        self._sigma = None

    def check(
        self, frame: Frame, *, tracking: bool = False, alert: bool = True, hurry: bool = False
    ) -> MotionDecision:
        """Update the background with ``frame`` and say whether to run the detector on it.

        ``tracking``: subjects are in view; ``alert``: something is suspected (the full rate
        applies), else the calm rate does; ``hurry``: between those looks, extra ones at the hurry
        rate (reason ``HURRY``)."""
        small = self._small_grey(frame.grey)
        self.frames_seen += 1
        if self._background is None or self._background.shape != small.shape:
            self._background = small.astype(np.float32)
            self._mask = self._ignore_mask(small.shape)
            self._unmasked = int(np.count_nonzero(self._mask))
            return self._decide(frame.ts_s, GateReason.FIRST, (), 0.0, 0.0)
        # Signed difference, then a 3x3 mean: noise averages down by ~3x while a blob of 2x2 px
        # or more keeps most of its contrast; the threshold is taken on this smoothed map.
        small_f = small.astype(np.float32)
        diff = cast(npt.NDArray[np.float32], cv2.blur(small_f - self._background, (3, 3)))
        assert self._mask is not None
        diff[self._mask == 0] = 0.0
        np.abs(diff, out=diff)
        threshold = self._threshold(diff)
        binary, fraction = self._moving(diff, threshold)
        cv2.accumulateWeighted(small_f, self._background, self._rate(fraction))
        since = float("inf") if self._last_detect_ts is None else frame.ts_s - self._last_detect_ts
        if since < (self.min_interval_s if alert else self.calm_interval_s) - 1e-6:
            # The detector ran moments ago: the tracker bridges the gap. Where the motion is does
            # not matter then, so its regions are not even measured (~2/3 of frames at 15 fps).
            any_since = float("inf") if self._last_look_ts is None else frame.ts_s - self._last_look_ts
            if hurry and any_since >= self.hurry_interval_s - 1e-6:
                return self._decide(frame.ts_s, GateReason.HURRY, (), threshold, fraction)
            return self._decide(frame.ts_s, GateReason.QUIET, (), threshold, fraction)
        boxes = self._regions(binary)
        if boxes:
            reason = GateReason.MOTION
        elif tracking:
            reason = GateReason.TRACKING
        elif since >= self.recheck_s:
            reason = GateReason.RECHECK
        else:
            reason = GateReason.QUIET
        return self._decide(frame.ts_s, reason, boxes, threshold, fraction)

    def _decide(
        self, ts_s: float, reason: GateReason, boxes: tuple[BoxXYXY, ...], thr: float, frac: float
    ) -> MotionDecision:
        run = reason is not GateReason.QUIET
        if run:
            if reason is not GateReason.HURRY:
                self._last_detect_ts = ts_s  # the full-rate clock
            self._last_look_ts = ts_s
            self.frames_detected += 1
        return MotionDecision(run, reason, boxes, thr, frac)

    def _rate(self, moving_fraction: float) -> float:
        # A global light change (lamp switched on) would otherwise keep the gate open for seconds.
        return 0.5 if moving_fraction > 0.4 else self.learn_rate

    def _small_grey(self, grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        if self.scale > 1:
            h, w = grey.shape[:2]
            size = (max(1, w // self.scale), max(1, h // self.scale))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        return cast(npt.NDArray[np.uint8], grey)

    def _ignore_mask(self, shape: tuple[int, ...]) -> npt.NDArray[np.uint8]:
        h, w = shape[:2]
        mask = np.full((h, w), 255, dtype=np.uint8)
        for zone in self.zones:
            pts = np.array([[x * w, y * h] for x, y in zone.polygon], dtype=np.int32)
            cv2.fillPoly(mask, [pts], 0)
        return mask

    def _threshold(self, diff: npt.NDArray[np.float32]) -> float:
        """k sigma of the noise; sigma from the median absolute difference, smoothed over frames.

        Moving objects are a small part of the frame, so the median sees mostly noise. A sudden
        jump of the median is a global change (a lamp), not noise: it is ignored unless it lasts
        (the camera switched to night gain), so the change itself still registers as motion.
        """
        active = (diff[self._mask > 0] if self._mask is not None else diff.ravel())[::3]
        if active.size == 0:
            return float("inf")
        sigma = 1.4826 * float(np.median(active))
        if self._sigma is None or sigma <= 2.0 * self._sigma or self._sigma_jumps >= 15:
            self._sigma = sigma if self._sigma is None else 0.8 * self._sigma + 0.2 * sigma
            self._sigma_jumps = 0
        else:
            self._sigma_jumps += 1
        return max(self.min_threshold, self.k_sigma * self._sigma)

    def _moving(self, diff: npt.NDArray[np.float32], threshold: float) -> tuple[npt.NDArray[np.uint8], float]:
        """Pixels above the threshold, and their share of the unmasked frame."""
        binary = (diff > threshold).astype(np.uint8)
        return binary, float(np.count_nonzero(binary)) / max(1, self._unmasked)

    def _regions(self, binary: npt.NDArray[np.uint8]) -> tuple[BoxXYXY, ...]:
        """Boxes (full-frame pixels) of the moving blobs of at least ``min_area_px``."""
        _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        kept = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= self.min_area_px]
        s = float(self.scale)
        return tuple((x * s, y * s, (x + w) * s, (y + h) * s) for x, y, w, h in kept[:, :4].tolist())

    @property
    def detect_fraction(self) -> float:
        """Share of frames seen that were sent to the detector."""
        return self.frames_detected / self.frames_seen if self.frames_seen else 0.0
