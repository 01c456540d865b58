"""What a person looks like: a small colour signature per box, to tell a returning subject from
the colleague who took their track id.

ByteTrack follows boxes, not people: in a crowd it can move an id from one person to another
(both stand close, one hides the other) and give the first a new id. The rule engine
(``vision.continuity``) then asks whether the person now under the old id is the one its run
was about. A ``Look`` is three hue/saturation histograms (head and shoulders, torso, legs) of the
box's central part, with a separate grey-level histogram for unsaturated pixels (white
uniforms, black trousers, grey hair), so a white coat over blue jeans differs from one over black
trousers. It costs a 12x36 resize and a bincount per person on frames the detector saw.

Measured on the fresh held-out set and the samples (ground-truth boxes, 2 and 4 s apart):
a person's looks are alike by at least 0.75 in 79 % of pairs, two different people's in 17 %
(docs/evaluation.md, "Who is under the old id"). That is too weak to re-identify anyone on its
own; it is used only to compare: does the new subject look more like the old run's subject than
the person now under its id does?

Example::

    a, b = look_of(image, box_then), look_of(image_now, box_now)
    if a is not None and b is not None and alike(a, b) > 0.85:
        ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np
import numpy.typing as npt

from vision.geometry import BoxXYXY
from vision.kinds import ObjectClass
from vision.tracking import TrackedSubject

Look = npt.NDArray[np.float32]  # (len(BANDS), BINS): one normalized histogram per band

# Vertical bands of the person box: head and shoulders, torso, legs.
BANDS = ((0.0, 0.3), (0.3, 0.62), (0.62, 1.0))
SIDE_TRIM = 0.2  # of the box width on each side: mostly background and neighbours' edges
SIZE_WH = (12, 36)
HUE_BINS, SAT_BINS, GREY_BINS = 12, 3, 5
CHROMA_MIN_S = 50  # saturation (0-255) below which a pixel is judged by its brightness alone
BINS = HUE_BINS * SAT_BINS + GREY_BINS
# each row of the 12x36 resize: its band's offset into one histogram of all bands
_BAND_OFFSET = (
    np.searchsorted([int(b * SIZE_WH[1]) for _, b in BANDS], np.arange(SIZE_WH[1]), side="right")[:, None]
    * BINS
)
MIN_HEIGHT_PX = 24  # smaller boxes hold too few pixels to say anything
LOOK_MEMORY = 10  # looks averaged into a run's look (2 s at 5 looks per second)


def look_of(image_bgr: npt.NDArray[np.uint8], box: BoxXYXY) -> Look | None:
    """The colour signature of the person in ``box`` (pixels, xyxy); None when too small."""
    h, w = image_bgr.shape[:2]
    x0, y0, x1, y1 = box
    trim = SIDE_TRIM * (x1 - x0)
    ix0, ix1 = int(max(0.0, x0 + trim)), int(min(float(w), x1 - trim))
    iy0, iy1 = int(max(0.0, y0)), int(min(float(h), y1))
    if ix1 - ix0 < 2 or iy1 - iy0 < MIN_HEIGHT_PX:
        return None
    crop = cv2.resize(image_bgr[iy0:iy1, ix0:ix1], SIZE_WH, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV).astype(np.int32)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]  # OpenCV hue is 0-179
    chroma = (hue * HUE_BINS // 180) * SAT_BINS + np.minimum(sat * SAT_BINS // 256, SAT_BINS - 1)
    grey = HUE_BINS * SAT_BINS + np.minimum(val * GREY_BINS // 256, GREY_BINS - 1)
    index = np.where(sat > CHROMA_MIN_S, chroma, grey) + _BAND_OFFSET
    counts = np.bincount(index.ravel(), minlength=len(BANDS) * BINS).reshape(len(BANDS), BINS)
    return (counts / counts.sum(axis=1, keepdims=True)).astype(np.float32)


def alike(a: Look, b: Look) -> float:
    """How alike two looks are: the mean over bands of the Bhattacharyya coefficient (1: same
    colours in the same proportions, 0: no colour in common)."""
    return float(np.mean(np.sum(np.sqrt(a * b), axis=1)))


def blend(mean: Look | None, look: Look, seen: int) -> Look:
    """``mean`` of ``seen`` looks with one more: a plain mean for the first ``LOOK_MEMORY``
    looks, then a moving average, so a subject's look is what it was over most of a run and a
    frame or two on a neighbour's box moves it little."""
    if mean is None:
        return look
    weight = 1.0 / min(seen + 1, LOOK_MEMORY)
    return (1.0 - weight) * mean + weight * look


def with_looks(subjects: Sequence[TrackedSubject], image_bgr: npt.NDArray[np.uint8]) -> list[TrackedSubject]:
    """``subjects`` with each person's ``look`` on this frame filled in."""
    person = ObjectClass.PERSON.value
    return [
        replace(s, look=look_of(image_bgr, s.track.xyxy)) if s.track.class_name == person else s
        for s in subjects
    ]
