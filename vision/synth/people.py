"""People: bodies, clothes, hats, masks, poses and actions, drawn part by part with ids.

Every person owns eight consecutive ids (``oid_base + part``) so the renderer can recover the
visible box of the whole body, the head, the face, the torso and a held cigarette or phone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vision.synth.canvas import Canvas, Color, Point, mix, shade
from vision.synth.heads import draw_head

PART_BODY, PART_HEAD, PART_FACE, PART_TORSO, PART_CIG, PART_PHONE = range(6)
PARTS_PER_PERSON = 8

SKIN: list[Color] = [
    (189, 214, 241),
    (160, 190, 225),
    (130, 170, 210),
    (100, 140, 190),
    (70, 105, 150),
    (50, 75, 110),
]
HAIR: list[Color] = [
    (20, 20, 25),
    (30, 40, 60),
    (40, 70, 110),
    (120, 170, 200),
    (150, 150, 150),
    (20, 30, 90),
]
HAT_STYLES = ("toque", "skullcap", "cap", "hairnet", "bouffant")
UNIFORM_STYLES = ("chef_jacket", "apron_jacket", "work_coat")
STREET_STYLES = ("tshirt", "striped", "plaid", "hoodie", "jacket")
MASK_COLORS: list[Color] = [(235, 210, 170), (245, 245, 245), (35, 35, 35), (200, 170, 235), (170, 170, 170)]


@dataclass
class Look:
    """What a person wears and how they are built; fixed for a clip."""

    skin: Color
    hair: Color
    long_hair: bool
    width_f: float  # body build
    height_f: float
    hat: str | None  # one of HAT_STYLES or None (bare head)
    hat_color: Color
    mask: str  # "ok", "under_nose", "chin", "none"
    mask_color: Color
    uniform: str | None  # one of UNIFORM_STYLES, or None → street clothes
    street: str
    top_color: Color
    top_color2: Color
    pants_color: Color
    holds: str | None = None  # hard negatives in hand: "mask", "towel", "bowl"


@dataclass
class Pose:
    """Where a person is and what they do at one instant."""

    x: float
    feet_y: float
    facing: str  # "front", "back", "left", "right"
    action: str  # "walk", "stand", "work", "phone_ear", "phone_look", "smoke_mouth", "smoke_hand"
    phase: float  # walking cycle, radians


@dataclass
class PersonParts:
    oid_base: int
    height_px: float
    facing: str
    action: str
    expected: dict[int, float] = field(default_factory=dict)  # part → expected visible pixels


def random_look(rng: np.random.Generator, *, hat: bool, mask: str, uniform: bool) -> Look:
    top = tuple(int(v) for v in rng.integers(30, 230, 3))
    if uniform:
        style = UNIFORM_STYLES[rng.integers(len(UNIFORM_STYLES))]
        top = [(245, 245, 245), (240, 240, 235), (35, 35, 35), (200, 170, 120), (180, 180, 180)][
            rng.integers(5)
        ]
        if rng.random() < 0.6:
            top = (245, 245, 245)
    else:
        style = None
        if rng.random() < 0.15:
            top = (240, 240, 240)  # white street t-shirts exist: no colour rule
    return Look(
        skin=SKIN[rng.integers(len(SKIN))],
        hair=HAIR[rng.integers(len(HAIR))],
        long_hair=bool(rng.random() < 0.35),
        width_f=float(rng.uniform(0.85, 1.2)),
        height_f=float(rng.uniform(0.88, 1.08)),
        hat=HAT_STYLES[rng.integers(len(HAT_STYLES))] if hat else None,
        hat_color=[(250, 250, 250), (240, 240, 240), (200, 140, 60), (40, 40, 40), (60, 60, 200)][
            rng.integers(5)
        ],
        mask=mask,
        mask_color=MASK_COLORS[rng.integers(len(MASK_COLORS))],
        uniform=style,
        street=STREET_STYLES[rng.integers(len(STREET_STYLES))],
        top_color=top,  # type: ignore[arg-type]
        top_color2=tuple(int(v) for v in rng.integers(20, 240, 3)),  # type: ignore[arg-type]
        pants_color=[(40, 40, 40), (120, 80, 40), (30, 30, 30), (90, 90, 90), (150, 120, 80)][
            rng.integers(5)
        ],
    )


def _rot(p: Point, c: Point, ang: float) -> Point:
    s, co = math.sin(ang), math.cos(ang)
    dx, dy = p[0] - c[0], p[1] - c[1]
    return (c[0] + dx * co - dy * s, c[1] + dx * s + dy * co)


def draw_person(cv: Canvas, look: Look, pose: Pose, height_px: float, oid_base: int, t: float) -> PersonParts:
    """Draw one person; returns the parts' ids and their expected (unoccluded) areas."""
    h = height_px * look.height_f
    x, fy = pose.x, pose.feet_y
    side = pose.facing in ("left", "right")
    sgn = -1.0 if pose.facing == "left" else 1.0
    body = oid_base + PART_BODY
    head_id = oid_base + PART_HEAD
    torso_id = oid_base + PART_TORSO
    tw = h * 0.13 * look.width_f * (0.62 if side else 1.0)  # half torso width
    shoulder_y = fy - h * 0.80
    hip_y = fy - h * 0.47
    head_r = h * 0.062
    head_c = (x + (sgn * head_r * 0.15 if side else 0.0), fy - h + head_r * 1.15)
    parts = PersonParts(oid_base, h, pose.facing, pose.action)

    # legs
    walking = pose.action == "walk"
    swing = math.sin(pose.phase) * 0.35 if walking else 0.0
    leg_w = h * 0.075 * look.width_f
    hip_dx = tw * 0.45 if not side else 0.0
    for k, sign in enumerate((-1.0, 1.0)):
        hip = (x + sign * hip_dx, hip_y)
        ang = swing * sign if side else swing * sign * 0.3
        foot = _rot((hip[0], fy - h * 0.02), hip, ang)
        col = look.pants_color if k == 0 else shade(look.pants_color, 0.85)
        cv.line(hip, foot, col, leg_w, body)
        cv.ellipse(
            (foot[0] + (sgn * leg_w * 0.4 if side else 0.0), foot[1]),
            (leg_w * 0.7, leg_w * 0.35),
            (25, 25, 25),
            body,
        )

    # torso (clothes)
    _draw_torso(cv, look, x, shoulder_y, hip_y, tw, side, pose.facing, torso_id, h)
    parts.expected[PART_TORSO] = (2 * tw) * (hip_y - shoulder_y) * 0.9

    # arms and what the hands hold
    _draw_arms(cv, look, pose, x, shoulder_y, tw, h, head_c, head_r, oid_base, side, sgn, t, parts)

    # neck + head
    cv.rect(
        x - head_r * 0.35,
        head_c[1] + head_r * 0.7,
        x + head_r * 0.35,
        shoulder_y + 2,
        shade(look.skin, 0.9),
        body,
    )
    face_id = oid_base + PART_FACE
    parts.expected[PART_FACE] = draw_head(cv, look, pose.facing, head_c, head_r, head_id, face_id, sgn)
    parts.expected[PART_HEAD] = math.pi * head_r * head_r * 1.1
    return parts


def _draw_torso(
    cv: Canvas,
    look: Look,
    x: float,
    sy: float,
    hy: float,
    tw: float,
    side: bool,
    facing: str,
    oid: int,
    h: float,
) -> None:
    col = look.top_color
    pts = [(x - tw, sy + h * 0.02), (x + tw, sy + h * 0.02), (x + tw * 0.92, hy), (x - tw * 0.92, hy)]
    cv.poly(pts, col, oid)
    cv.ellipse((x, sy + h * 0.025), (tw, h * 0.03), col, oid)
    p = cv.paint_only()
    dark = shade(col, 0.55) if sum(col) > 200 else shade(col, 1.8)
    front = facing == "front"
    if look.uniform is not None:
        # mandarin collar, double-breasted buttons, apron: what makes a work jacket a work jacket
        p.rect(x - tw * 0.35, sy - h * 0.005, x + tw * 0.35, sy + h * 0.03, shade(col, 0.85))
        if front:
            for i in range(4):
                yy = sy + h * (0.07 + i * 0.055)
                for dx in (-0.3, 0.3):
                    p.circle((x + tw * dx, yy), max(1.0, h * 0.008), dark)
        if look.uniform == "apron_jacket" and not facing == "back":
            ap = mix(look.top_color2, (60, 60, 60), 0.3)
            p.poly(
                [
                    (x - tw * 0.75, sy + h * 0.14),
                    (x + tw * 0.75, sy + h * 0.14),
                    (x + tw * 0.85, hy),
                    (x - tw * 0.85, hy),
                ],
                ap,
            )
            p.line((x - tw * 0.6, sy + h * 0.14), (x - tw * 0.35, sy), ap, max(1.0, h * 0.01))
            p.line((x + tw * 0.6, sy + h * 0.14), (x + tw * 0.35, sy), ap, max(1.0, h * 0.01))
        if look.uniform == "work_coat" and front:
            p.rect(x + tw * 0.25, sy + h * 0.06, x + tw * 0.7, sy + h * 0.1, (200, 120, 30))  # name badge
            p.line((x, sy + h * 0.03), (x, hy), dark, 1)
    else:
        st = look.street
        if st == "striped":
            n = 6
            for i in range(n):
                yy = sy + (hy - sy) * (i + 0.5) / n
                p.line((x - tw * 0.95, yy), (x + tw * 0.95, yy), look.top_color2, max(1.0, h * 0.012))
        elif st == "plaid":
            for i in range(5):
                yy = sy + (hy - sy) * (i + 0.5) / 5
                p.line((x - tw * 0.95, yy), (x + tw * 0.95, yy), look.top_color2, 1)
                xx = x - tw + 2 * tw * (i + 0.5) / 5
                p.line((xx, sy + h * 0.02), (xx, hy), look.top_color2, 1)
        elif st == "hoodie":
            p.ellipse((x, sy + h * 0.01), (tw * 0.55, h * 0.03), shade(col, 0.8))
            if front:
                p.line((x - tw * 0.2, sy + h * 0.03), (x - tw * 0.22, sy + h * 0.12), (230, 230, 230), 1)
                p.line((x + tw * 0.2, sy + h * 0.03), (x + tw * 0.22, sy + h * 0.12), (230, 230, 230), 1)
                p.rect(x - tw * 0.55, hy - h * 0.09, x + tw * 0.55, hy - h * 0.02, shade(col, 0.85))
        elif st == "jacket" and front:
            p.poly(
                [
                    (x - tw * 0.3, sy + h * 0.02),
                    (x + tw * 0.3, sy + h * 0.02),
                    (x + tw * 0.25, hy),
                    (x - tw * 0.25, hy),
                ],
                look.top_color2,
            )
            p.line((x - tw * 0.3, sy + h * 0.02), (x - tw * 0.25, hy), dark, 1)
            p.line((x + tw * 0.3, sy + h * 0.02), (x + tw * 0.25, hy), dark, 1)
        elif st == "tshirt" and front:
            # a printed logo
            p.circle((x, sy + h * 0.12), h * 0.035, look.top_color2)
            p.rect(x - tw * 0.4, sy + h * 0.17, x + tw * 0.4, sy + h * 0.19, look.top_color2)
        # a round neckline
        if front:
            p.ellipse((x, sy + h * 0.02), (tw * 0.3, h * 0.02), shade(look.skin, 0.95), start=0, end=180)


def _draw_arms(
    cv: Canvas,
    look: Look,
    pose: Pose,
    x: float,
    sy: float,
    tw: float,
    h: float,
    head_c: Point,
    head_r: float,
    oid_base: int,
    side: bool,
    sgn: float,
    t: float,
    parts: PersonParts,
) -> None:
    body = oid_base + PART_BODY
    arm_w = h * 0.055 * look.width_f
    sleeve = look.top_color if look.uniform or look.street != "tshirt" else look.skin
    upper = h * 0.19
    lower = h * 0.18
    act = pose.action
    back = pose.facing == "back"
    for k, sign in enumerate((-1.0, 1.0)):
        if side and k == 0:
            continue  # the far arm is hidden behind the body in profile
        sh = (x + sign * tw * 0.95, sy + h * 0.035) if not side else (x, sy + h * 0.04)
        active = k == 1  # the right hand (image right) does the action
        if act == "walk":
            a = math.sin(pose.phase) * 0.4 * sign
            elbow = _rot((sh[0], sh[1] + upper), sh, a)
            hand = _rot((elbow[0], elbow[1] + lower), elbow, a * 0.5)
        elif act == "work":
            elbow = (sh[0] + sign * h * 0.02 + (sgn * h * 0.05 if side else 0), sh[1] + upper * 0.95)
            hand = (
                x + sign * tw * 0.4 + (sgn * h * 0.15 if side else 0),
                sh[1] + upper * 0.9 + math.sin(t * 6 + k) * h * 0.01,
            )
        elif active and act == "phone_ear":
            elbow = (sh[0] + sign * h * 0.06, sh[1] + upper * 0.6)
            hand = (head_c[0] + sign * head_r * 1.05, head_c[1] + head_r * 0.2)
        elif active and act in ("phone_look", "smoke_mouth"):
            elbow = (sh[0] + sign * h * 0.03 + (sgn * h * 0.03 if side else 0), sh[1] + upper * 0.95)
            if act == "phone_look":
                hand = (x + sign * tw * 0.3 + (sgn * h * 0.1 if side else 0), sy + h * 0.12)
            else:
                hand = (
                    head_c[0] + (sgn * head_r * 1.0 if side else sign * head_r * 0.35),
                    head_c[1] + head_r * 0.6,
                )
        else:
            a = 0.12 * sign
            elbow = _rot((sh[0], sh[1] + upper), sh, a)
            hand = _rot((elbow[0], elbow[1] + lower), elbow, a * 0.3)
        cv.line(sh, elbow, sleeve, arm_w, body)
        cv.line(
            elbow,
            hand,
            sleeve if look.uniform or look.street in ("hoodie", "jacket", "plaid") else look.skin,
            arm_w * 0.9,
            body,
        )
        cv.circle(hand, arm_w * 0.55, look.skin, body)
        if active and not back:
            _held_item(cv, look, pose, hand, h, head_c, head_r, oid_base, sgn, side, t, parts)
        elif active and back and act == "phone_ear":
            _held_item(cv, look, pose, hand, h, head_c, head_r, oid_base, sgn, side, t, parts)
        if k == 0 and look.holds and not back and act in ("stand", "walk", "work"):
            _hard_negative_in_hand(cv, look, hand, h)


def _held_item(
    cv: Canvas,
    look: Look,
    pose: Pose,
    hand: Point,
    h: float,
    head_c: Point,
    head_r: float,
    oid_base: int,
    sgn: float,
    side: bool,
    t: float,
    parts: PersonParts,
) -> None:
    act = pose.action
    if act in ("phone_ear", "phone_look"):
        pw, ph = h * 0.032, h * 0.06
        cx, cy = hand[0], hand[1] - ph * 0.2
        oid = oid_base + PART_PHONE
        cv.rect(cx - pw, cy - ph, cx + pw, cy + ph, (30, 30, 30), oid)
        if act == "phone_look":
            glow = (230, 200, 160) if int(t * 2) % 2 == 0 else (240, 230, 200)
            cv.paint_only().rect(cx - pw * 0.75, cy - ph * 0.8, cx + pw * 0.75, cy + ph * 0.7, glow)
        # the fingers over the phone belong to the body: they hide whatever lies behind them
        # (a cigarette of a person further back) in the id buffer as well as in the picture
        cv.circle(hand, h * 0.02, look.skin, oid_base + PART_BODY)
        parts.expected[PART_PHONE] = 4 * pw * ph * 0.7
    elif act in ("smoke_mouth", "smoke_hand"):
        L = max(9.0, h * 0.075)
        d = sgn if side else 1.0
        a = (hand[0] - d * L * 0.1, hand[1] - L * 0.15)
        b = (hand[0] + d * L, hand[1] - L * 0.35)
        oid = oid_base + PART_CIG
        cv.line(a, b, (240, 240, 245), max(2.0, h * 0.016), oid)
        cv.circle(b, max(1.8, h * 0.012), (40, 90, 255), oid)
        parts.expected[PART_CIG] = L * max(2.0, h * 0.016) * 0.8
        # smoke wisps drift up (paint only)
        p = cv.paint_only()
        for i in range(4):
            yy = b[1] - (i + 1) * h * 0.025
            xx = b[0] + math.sin(t * 3 + i) * h * 0.015
            p.circle((xx, yy), h * 0.01 * (1 + i * 0.4), (200, 200, 205))


def _hard_negative_in_hand(cv: Canvas, look: Look, hand: Point, h: float) -> None:
    p = cv.paint_only()
    if look.holds == "mask":
        p.ellipse((hand[0], hand[1] + h * 0.02), (h * 0.035, h * 0.02), look.mask_color)
        p.line((hand[0] - h * 0.035, hand[1] + h * 0.02), (hand[0] - h * 0.05, hand[1]), (230, 230, 230), 1)
    elif look.holds == "towel":
        p.rect(hand[0] - h * 0.03, hand[1], hand[0] + h * 0.03, hand[1] + h * 0.1, (245, 245, 245))
    elif look.holds == "bowl":
        p.ellipse((hand[0], hand[1]), (h * 0.05, h * 0.035), (250, 250, 250), start=0, end=180)
