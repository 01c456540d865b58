"""Heads: hair, faces, masks worn right or wrong, and five kinds of hat."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from vision.synth.canvas import Canvas, Point, mix, shade

if TYPE_CHECKING:
    from vision.synth.people import Look


def draw_head(
    cv: Canvas,
    look: Look,
    facing: str,
    c: Point,
    r: float,
    head_id: int,
    face_id: int,
    sgn: float,
) -> float:
    """Draw a head facing ``facing``; returns the face's full area in pixels (0 seen from behind)."""
    x, y = c
    face_area = 0.0
    side = facing in ("left", "right")
    back = facing == "back"
    hair = look.hair
    # skull / hair base
    if back:
        cv.ellipse((x, y), (r, r * 1.15), hair, head_id)
        if look.long_hair:
            cv.ellipse((x, y + r * 0.9), (r * 0.95, r * 0.9), hair, head_id)
    else:
        if look.long_hair:
            cv.ellipse((x, y + r * 0.5), (r * 1.1, r * 1.2), hair, head_id)
        cv.ellipse((x, y), (r, r * 1.15), look.skin, head_id)
        # face region: eyes → chin, this is what a mask covers
        fx = x + (sgn * r * 0.25 if side else 0.0)
        fw = r * (0.6 if side else 0.85)
        cv.ellipse((fx, y + r * 0.2), (fw, r * 0.9), look.skin, face_id)
        face_area = math.pi * fw * r * 0.9
        cv.ellipse((x, y - r * 0.35), (r * 1.02, r * 0.8), hair, head_id, start=180, end=360)
        _face_features(cv, look, x, y, r, side, sgn, face_id)
    _draw_hat(cv, look, x, y, r, facing, sgn, head_id)
    return face_area


def _face_features(
    cv: Canvas, look: Look, x: float, y: float, r: float, side: bool, sgn: float, face_id: int
) -> None:
    p = cv.paint_only()
    eye = (30, 30, 30)
    if side:
        ex = x + sgn * r * 0.45
        p.circle((ex, y - r * 0.05), max(1.0, r * 0.1), eye)
        p.poly(
            [(x + sgn * r * 0.9, y), (x + sgn * r * 1.15, y + r * 0.25), (x + sgn * r * 0.9, y + r * 0.3)],
            look.skin,
        )
        mouth = (x + sgn * r * 0.6, y + r * 0.55)
        p.line(mouth, (mouth[0] + sgn * r * 0.3, mouth[1]), (70, 70, 160), max(1.0, r * 0.08))
    else:
        for d in (-0.38, 0.38):
            p.circle((x + d * r, y - r * 0.05), max(1.0, r * 0.11), eye)
            p.line(
                (x + d * r - r * 0.18, y - r * 0.28),
                (x + d * r + r * 0.18, y - r * 0.28),
                shade(look.hair, 1.1),
                1,
            )
        p.line((x, y + r * 0.05), (x, y + r * 0.3), shade(look.skin, 0.75), max(1.0, r * 0.08))
        p.line((x - r * 0.25, y + r * 0.55), (x + r * 0.25, y + r * 0.55), (70, 70, 170), max(1.0, r * 0.1))
    # masks: worn (over nose and mouth), under the nose (mouth only), on the chin
    if look.mask == "none":
        return
    top = {"ok": y + r * 0.02, "under_nose": y + r * 0.38, "chin": y + r * 0.72}[look.mask]
    bottom = y + r * 1.05
    mc = look.mask_color
    if side:
        cv.poly(
            [
                (x + sgn * r * 0.1, top),
                (x + sgn * r * 1.12, top + r * 0.1),
                (x + sgn * r * 0.95, bottom),
                (x + sgn * r * 0.1, bottom),
            ],
            mc,
            face_id,
        )
        p.line((x + sgn * r * 0.1, top + r * 0.1), (x - sgn * r * 0.5, y - r * 0.05), (220, 220, 220), 1)
    else:
        cv.poly(
            [(x - r * 0.8, top), (x + r * 0.8, top), (x + r * 0.7, bottom), (x - r * 0.7, bottom)],
            mc,
            face_id,
        )
        p.line((x - r * 0.8, top + r * 0.1), (x - r * 1.0, y - r * 0.1), (220, 220, 220), 1)
        p.line((x + r * 0.8, top + r * 0.1), (x + r * 1.0, y - r * 0.1), (220, 220, 220), 1)
        p.line((x - r * 0.6, (top + bottom) / 2), (x + r * 0.6, (top + bottom) / 2), shade(mc, 0.85), 1)


def _draw_hat(
    cv: Canvas, look: Look, x: float, y: float, r: float, facing: str, sgn: float, oid: int
) -> None:
    hat = look.hat
    if hat is None:
        return
    col = look.hat_color
    side = facing in ("left", "right")
    if hat == "toque":
        col = (250, 250, 250) if sum(col) < 400 else col
        cv.rect(x - r * 0.85, y - r * 2.0, x + r * 0.85, y - r * 0.55, col, oid)
        cv.ellipse((x, y - r * 2.0), (r * 1.15, r * 0.6), col, oid)
        cv.paint_only().line(
            (x - r * 0.85, y - r * 0.7), (x + r * 0.85, y - r * 0.7), shade(col, 0.85), max(1.0, r * 0.12)
        )
        for d in (-0.5, 0.0, 0.5):
            cv.paint_only().line((x + d * r, y - r * 2.3), (x + d * r * 0.8, y - r * 1.6), shade(col, 0.9), 1)
    elif hat == "skullcap":
        cv.ellipse((x, y - r * 0.35), (r * 1.08, r * 0.95), col, oid, start=180, end=360)
        cv.rect(x - r * 1.08, y - r * 0.45, x + r * 1.08, y - r * 0.3, shade(col, 0.9), oid)
    elif hat == "cap":
        cv.ellipse((x, y - r * 0.35), (r * 1.05, r * 0.9), col, oid, start=180, end=360)
        if side:
            cv.ellipse((x + sgn * r * 1.1, y - r * 0.38), (r * 0.7, r * 0.15), shade(col, 0.8), oid)
        elif facing == "front":
            cv.ellipse((x, y - r * 0.35), (r * 1.1, r * 0.3), shade(col, 0.8), oid, start=0, end=180)
    elif hat == "hairnet":
        net = mix(look.hair, (235, 225, 215), 0.35)
        cv.ellipse((x, y - r * 0.4), (r * 1.12, r * 0.95), net, oid, start=180, end=360)
        if facing == "back":
            cv.ellipse((x, y), (r * 1.12, r * 1.2), net, oid)
        p = cv.paint_only()
        for i in range(-3, 4):
            p.line(
                (x + i * r * 0.3, y - r * 1.3), (x + i * r * 0.3 + r * 0.3, y - r * 0.4), (230, 230, 230), 1
            )
        p.line((x - r * 1.1, y - r * 0.4), (x + r * 1.1, y - r * 0.4), (240, 240, 240), 1)
    elif hat == "bouffant":
        bc = (230, 170, 90) if sum(col) < 300 else (245, 245, 245)
        cv.ellipse((x, y - r * 0.55), (r * 1.3, r * 1.0), bc, oid, start=170, end=370)
        cv.paint_only().polyline(
            [
                (x - r * 1.25, y - r * 0.45),
                (x - r * 0.6, y - r * 0.35),
                (x, y - r * 0.45),
                (x + r * 0.6, y - r * 0.35),
                (x + r * 1.25, y - r * 0.45),
            ],
            shade(bc, 0.8),
            1,
        )
