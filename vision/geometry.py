"""Box and polygon arithmetic shared by tracking, rules and evaluation (pixel ``xyxy`` boxes).

Example::

    iou((0, 0, 10, 10), (5, 0, 15, 10))          # 1/3
    share_inside((2, 2, 4, 4), (0, 0, 10, 10))   # 1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BoxXYXY = tuple[float, float, float, float]


def overlap_area(a: BoxXYXY, b: BoxXYXY) -> float:
    """Area of the intersection of two boxes (0 when they do not meet)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy


def area(box: BoxXYXY) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def iou(a: BoxXYXY, b: BoxXYXY) -> float:
    inter = overlap_area(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def share_inside(inner: BoxXYXY, outer: BoxXYXY) -> float:
    """Fraction of ``inner``'s area that lies in ``outer``."""
    return overlap_area(inner, outer) / max(area(inner), 1e-6)


def contained(a: BoxXYXY, b: BoxXYXY) -> float:
    """Share of the smaller box that lies inside the larger one."""
    smaller = min(area(a), area(b))
    return overlap_area(a, b) / smaller if smaller > 0 else 0.0


def centre_distance(a: BoxXYXY, b: BoxXYXY) -> float:
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))


def point_in_polygon(x: float, y: float, polygon: Sequence[tuple[float, float]]) -> bool:
    """Ray casting; points on an edge may fall either way (zones are drawn with margin)."""
    inside = False
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside
