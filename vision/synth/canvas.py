"""A canvas that paints colour and object ids at once, so visible boxes come out exact."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

Color = tuple[int, int, int]
Point = tuple[float, float]

_SHIFT = 4  # sub-pixel precision for cv2 drawing
_ONE = 1 << _SHIFT


def _p(pt: Point) -> tuple[int, int]:
    return int(round(pt[0] * _ONE)), int(round(pt[1] * _ONE))


class Canvas:
    """BGR image plus a uint16 id buffer; every primitive writes both (id 0 = background)."""

    def __init__(self, image: npt.NDArray[np.uint8], ids: npt.NDArray[np.uint16] | None = None) -> None:
        self.img = image
        self.ids = ids if ids is not None else np.zeros(image.shape[:2], np.uint16)

    @property
    def h(self) -> int:
        return int(self.img.shape[0])

    @property
    def w(self) -> int:
        return int(self.img.shape[1])

    def ellipse(
        self,
        c: Point,
        axes: Point,
        color: Color,
        oid: int = 0,
        angle: float = 0.0,
        start: float = 0.0,
        end: float = 360.0,
        thickness: int = -1,
    ) -> None:
        ax = (max(1, int(round(axes[0] * _ONE))), max(1, int(round(axes[1] * _ONE))))
        cv2.ellipse(self.img, _p(c), ax, angle, start, end, color, thickness, cv2.LINE_AA, _SHIFT)
        cv2.ellipse(self.ids, _p(c), ax, angle, start, end, oid, thickness, cv2.LINE_8, _SHIFT)

    def poly(self, pts: Sequence[Point], color: Color, oid: int = 0) -> None:
        arr = np.array([_p(p) for p in pts], np.int32)
        cv2.fillPoly(self.img, [arr], color, cv2.LINE_AA, _SHIFT)
        cv2.fillPoly(self.ids, [arr], oid, cv2.LINE_8, _SHIFT)

    def rect(self, x1: float, y1: float, x2: float, y2: float, color: Color, oid: int = 0) -> None:
        self.poly([(x1, y1), (x2, y1), (x2, y2), (x1, y2)], color, oid)

    def line(self, a: Point, b: Point, color: Color, width: float, oid: int = 0) -> None:
        t = max(1, int(round(width)))
        cv2.line(self.img, _p(a), _p(b), color, t, cv2.LINE_AA, _SHIFT)
        cv2.line(self.ids, _p(a), _p(b), oid, t, cv2.LINE_8, _SHIFT)

    def polyline(self, pts: Sequence[Point], color: Color, width: float, oid: int = 0) -> None:
        arr = np.array([_p(p) for p in pts], np.int32)
        t = max(1, int(round(width)))
        cv2.polylines(self.img, [arr], False, color, t, cv2.LINE_AA, _SHIFT)
        cv2.polylines(self.ids, [arr], False, oid, t, cv2.LINE_8, _SHIFT)

    def circle(self, c: Point, r: float, color: Color, oid: int = 0) -> None:
        self.ellipse(c, (r, r), color, oid)

    def paint_only(self) -> Canvas:
        """A view that paints colour but leaves ids alone (shading, texture, smoke)."""
        return Canvas(self.img, np.zeros_like(self.ids))


def shade(color: Color, f: float) -> Color:
    """Scale a BGR colour (f<1 darker, f>1 lighter), clipped."""
    return tuple(int(min(255, max(0, c * f))) for c in color)  # type: ignore[return-value]


def mix(a: Color, b: Color, t: float) -> Color:
    return tuple(int(round(a[i] * (1 - t) + b[i] * t)) for i in range(3))  # type: ignore[return-value]


def visible_boxes(ids: npt.NDArray[np.uint16]) -> dict[int, tuple[int, int, int, int, int]]:
    """Map every id present in the buffer to ``(x1, y1, x2, y2, pixel_count)`` (x2/y2 exclusive)."""
    w = ids.shape[1]
    flat = ids.ravel()
    nz = np.flatnonzero(flat)
    if nz.size == 0:
        return {}
    vals = flat[nz]
    order = np.argsort(vals, kind="stable")
    vals = vals[order]
    nz = nz[order]
    ys = nz // w
    xs = nz % w
    starts = np.flatnonzero(np.r_[True, vals[1:] != vals[:-1]])
    x1 = np.minimum.reduceat(xs, starts)
    x2 = np.maximum.reduceat(xs, starts) + 1
    y1 = np.minimum.reduceat(ys, starts)
    y2 = np.maximum.reduceat(ys, starts) + 1
    counts = np.diff(np.r_[starts, vals.size])
    return {
        int(vals[s]): (int(x1[i]), int(y1[i]), int(x2[i]), int(y2[i]), int(counts[i]))
        for i, s in enumerate(starts)
    }
