"""Pests, bins and props (the hard negatives that must not become events)."""

from __future__ import annotations

import math

from vision.synth.canvas import Canvas, Color, shade

RAT_COLORS: list[Color] = [(70, 80, 95), (60, 60, 65), (45, 60, 80), (95, 105, 115)]
ROACH_COLORS: list[Color] = [(20, 45, 90), (15, 30, 60), (30, 55, 110), (25, 35, 45)]
BIN_COLORS: list[Color] = [(60, 130, 40), (150, 90, 30), (110, 110, 110), (30, 30, 30), (40, 90, 200)]


def draw_rat(
    cv: Canvas, x: float, y: float, length: float, heading: float, color: Color, oid: int, t: float
) -> None:
    """A rat running along ``heading`` (radians); the labelled box covers body and head, not the tail."""
    d = (math.cos(heading), math.sin(heading) * 0.35)
    ang = math.degrees(math.atan2(d[1], d[0]))
    bl, bw = length * 0.42, length * 0.2
    tail0 = (x - d[0] * bl * 0.95, y - d[1] * bl * 0.95)
    wag = math.sin(t * 12) * length * 0.08
    tail = [
        tail0,
        (tail0[0] - d[0] * length * 0.45, tail0[1] + wag),
        (tail0[0] - d[0] * length * 0.85, tail0[1] - wag),
    ]
    cv.paint_only().polyline(tail, shade(color, 1.3), max(1.0, length * 0.03))
    # legs scurry
    p = cv.paint_only()
    for k in (-0.5, 0.5):
        lx = x + d[0] * bl * k + math.sin(t * 20 + k * 3) * length * 0.05
        p.line(
            (lx, y + bw * 0.6),
            (lx + d[0] * length * 0.05, y + bw * 1.05),
            shade(color, 0.7),
            max(1.0, length * 0.03),
        )
    cv.ellipse((x, y), (bl, bw), color, oid, angle=ang)
    hx, hy = x + d[0] * bl * 1.05, y + d[1] * bl * 1.05 - bw * 0.15
    cv.ellipse((hx, hy), (bl * 0.45, bw * 0.7), shade(color, 1.1), oid, angle=ang)
    cv.circle((hx - d[0] * bl * 0.2, hy - bw * 0.65), bw * 0.35, shade(color, 1.25), oid)  # ear
    cv.paint_only().circle((hx + d[0] * bl * 0.38, hy - bw * 0.1), max(0.8, bw * 0.12), (10, 10, 10))
    cv.paint_only().circle((hx + d[0] * bl * 0.5, hy + bw * 0.05), max(0.8, bw * 0.1), (150, 150, 220))


def draw_cockroach(
    cv: Canvas, x: float, y: float, length: float, heading: float, color: Color, oid: int, t: float
) -> None:
    """A cockroach: a glossy oval with legs and antennae (5–16 px long)."""
    d = (math.cos(heading), math.sin(heading))
    ang = math.degrees(heading)
    p = cv.paint_only()
    for k in (-0.3, 0.0, 0.3):
        for s in (-1, 1):
            bx, by = x + d[0] * length * k, y + d[1] * length * k
            nx, ny = -d[1] * s, d[0] * s
            j = math.sin(t * 30 + k * 5) * 0.15
            p.line(
                (bx, by),
                (bx + (nx + d[0] * j) * length * 0.45, by + (ny + d[1] * j) * length * 0.45),
                shade(color, 0.7),
                1,
            )
    cv.ellipse((x, y), (length * 0.5, length * 0.26), color, oid, angle=ang)
    cv.paint_only().ellipse(
        (x - d[0] * length * 0.05, y - d[1] * length * 0.05),
        (length * 0.25, length * 0.1),
        shade(color, 1.6),
        angle=ang,
    )
    hx, hy = x + d[0] * length * 0.5, y + d[1] * length * 0.5
    for s in (-1, 1):
        p.line(
            (hx, hy),
            (hx + (d[0] - d[1] * s * 0.6) * length * 0.6, hy + (d[1] + d[0] * s * 0.6) * length * 0.6),
            shade(color, 0.8),
            1,
        )


def draw_bin(
    cv: Canvas, x: float, base_y: float, height: float, color: Color, is_open: bool, oid: int
) -> None:
    """A kitchen bin: body, and a lid either closed on top or raised showing rubbish inside."""
    w = height * 0.36
    top = base_y - height
    cv.poly([(x - w, top), (x + w, top), (x + w * 0.85, base_y), (x - w * 0.85, base_y)], color, oid)
    cv.paint_only().line(
        (x - w * 0.6, top + height * 0.3), (x + w * 0.6, top + height * 0.3), shade(color, 0.7), 1
    )
    cv.ellipse((x, base_y), (w * 0.85, w * 0.18), shade(color, 0.8), oid, start=0, end=180)
    if is_open:
        cv.ellipse((x, top), (w, w * 0.3), (25, 25, 25), oid)
        p = cv.paint_only()
        p.ellipse((x - w * 0.3, top), (w * 0.35, w * 0.15), (60, 160, 200))
        p.ellipse((x + w * 0.25, top + 1), (w * 0.3, w * 0.12), (220, 220, 225))
        # raised lid behind the opening
        cv.ellipse((x, top - w * 0.55), (w * 1.0, w * 0.5), shade(color, 1.15), oid, start=180, end=360)
        cv.line((x - w, top - w * 0.55), (x + w, top - w * 0.55), shade(color, 0.75), max(1.0, w * 0.12), oid)
    else:
        cv.ellipse((x, top), (w * 1.05, w * 0.3), shade(color, 1.15), oid)
        cv.paint_only().ellipse((x, top - w * 0.05), (w * 0.3, w * 0.08), shade(color, 0.7))


def draw_prop(cv: Canvas, kind: str, x: float, y: float, size: float) -> None:
    """Hard negatives on counters: white bowls, towels, bags, a phone lying flat, steel pots."""
    p = cv.paint_only()
    if kind == "bowls":
        for i in range(3):
            p.ellipse((x, y - i * size * 0.25), (size * 0.5, size * 0.3), (248, 248, 248), start=0, end=180)
            p.ellipse((x, y - i * size * 0.25), (size * 0.5, size * 0.08), (225, 225, 225))
    elif kind == "towel":
        p.poly(
            [
                (x - size * 0.4, y),
                (x + size * 0.4, y),
                (x + size * 0.35, y - size * 0.35),
                (x - size * 0.3, y - size * 0.4),
            ],
            (240, 240, 240),
        )
        p.line((x - size * 0.3, y - size * 0.2), (x + size * 0.3, y - size * 0.15), (215, 215, 215), 1)
    elif kind == "bag":
        p.ellipse((x, y - size * 0.35), (size * 0.35, size * 0.4), (245, 245, 245))
        p.ellipse((x, y - size * 0.8), (size * 0.12, size * 0.1), (245, 245, 245))
    elif kind == "phone_flat":
        p.poly(
            [
                (x - size * 0.25, y),
                (x + size * 0.2, y + size * 0.05),
                (x + size * 0.28, y - size * 0.08),
                (x - size * 0.17, y - size * 0.12),
            ],
            (30, 30, 30),
        )
        p.poly(
            [
                (x - size * 0.2, y - size * 0.01),
                (x + size * 0.17, y + size * 0.03),
                (x + size * 0.23, y - size * 0.06),
                (x - size * 0.14, y - size * 0.1),
            ],
            (210, 180, 140),
        )
    elif kind == "pot":
        p.rect(x - size * 0.45, y - size * 0.55, x + size * 0.45, y, (180, 180, 185))
        p.ellipse((x, y - size * 0.55), (size * 0.45, size * 0.12), (140, 140, 145))
    elif kind == "board":
        p.rect(x - size * 0.5, y - size * 0.08, x + size * 0.5, y, (120, 170, 210))
