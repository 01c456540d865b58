"""Scenarios: who is in a clip, where they go, what they wear and do, and when.

Everything is a pure function of time, so a frame at any ``t`` can be rendered on its own
(datasets sample random instants) and the same seed always gives the same clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vision.synth.objects import BIN_COLORS, RAT_COLORS, ROACH_COLORS
from vision.synth.people import Look, Pose, random_look
from vision.synth.scene import Scene


@dataclass
class Segment:
    t0: float
    t1: float
    x0: float
    y0: float
    x1: float
    y1: float
    facing: str = "front"
    action: str = "walk"


@dataclass
class PersonActor:
    track_id: int
    role: str  # "staff" or "stranger"
    look: Look
    segments: list[Segment]

    def pose(self, t: float) -> Pose | None:
        for s in self.segments:
            if s.t0 <= t < s.t1:
                u = (t - s.t0) / max(1e-6, s.t1 - s.t0)
                x = s.x0 + (s.x1 - s.x0) * u
                y = s.y0 + (s.y1 - s.y0) * u
                dx, dy = s.x1 - s.x0, s.y1 - s.y0
                if s.action == "walk" and (abs(dx) + abs(dy)) > 1:
                    if abs(dx) > abs(dy) * 1.2:
                        facing = "right" if dx > 0 else "left"
                    else:
                        facing = "front" if dy > 0 else "back"
                    dist = math.hypot(dx, dy) * u
                    phase = dist / 9.0
                    return Pose(x, y, facing, "walk", phase)
                return Pose(x, y, s.facing, s.action, 0.0)
        return None


@dataclass
class PestActor:
    track_id: int
    kind: str  # "rat" or "cockroach"
    color: tuple[int, int, int]
    length_px: float
    points: list[tuple[float, float, float]]  # (t, x, y), linear in between; absent outside
    depth_y: float | None = None  # draw depth; None: its own y

    def state(self, t: float) -> tuple[float, float, float] | None:
        pts = self.points
        if not pts or t < pts[0][0] or t >= pts[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in zip(pts, pts[1:], strict=False):
            if t0 <= t < t1:
                u = (t - t0) / max(1e-6, t1 - t0)
                heading = math.atan2(y1 - y0, x1 - x0) if (x1 != x0 or y1 != y0) else 0.0
                return x0 + (x1 - x0) * u, y0 + (y1 - y0) * u, heading
        return None


@dataclass
class BinActor:
    track_id: int
    x: float
    base_y: float
    height: float
    color: tuple[int, int, int]
    open_intervals: list[tuple[float, float]] = field(default_factory=list)

    def is_open(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.open_intervals)


@dataclass
class Prop:
    kind: str
    x: float
    y: float
    size: float


@dataclass
class Effects:
    night: bool = False
    noise_sigma: float = 3.0
    light_switches: list[float] = field(default_factory=list)  # times the lights change level
    shadows: int = 0
    steam: bool = False


@dataclass
class Scenario:
    scene: Scene
    seed: int
    fps: float
    duration_s: float
    recorded_at: str
    persons: list[PersonActor] = field(default_factory=list)
    pests: list[PestActor] = field(default_factory=list)
    bins: list[BinActor] = field(default_factory=list)
    props: list[Prop] = field(default_factory=list)
    effects: Effects = field(default_factory=Effects)


# ---------------------------------------------------------------- building blocks


def in_restricted(scene: Scene, x: float, y: float, margin: float = 0.0) -> bool:
    """Whether a floor point is in (or within ``margin`` of) a restricted zone's bounding box."""
    nx, ny = x / scene.width, min(1.0, y / scene.height)
    for z in scene.zones:
        if not z.restricted:
            continue
        xs = [p[0] for p in z.polygon]
        ys = [p[1] for p in z.polygon]
        if min(xs) - margin <= nx <= max(xs) + margin and min(ys) - margin <= ny <= max(ys) + margin:
            return True
    return False


def random_floor_point(
    rng: np.random.Generator, scene: Scene, *, restricted: bool | None = False
) -> tuple[float, float]:
    x1, y1, x2, y2 = scene.floor
    for _ in range(200):
        x, y = rng.uniform(x1, x2), rng.uniform(y1, y2)
        # staff keep a margin from restricted areas (their box, arms included, must stay out)
        r = in_restricted(scene, x, y, 0.0 if restricted else 0.1)
        if restricted is None or r == restricted:
            return float(x), float(y)
    return float((x1 + x2) / 2), float((y1 + y2) / 2)


def person_path(
    rng: np.random.Generator,
    scene: Scene,
    t_start: float,
    t_end: float,
    *,
    actions: list[str] | None = None,
    enter: bool = False,
    leave: bool = False,
    restricted: bool = False,
    facing_pref: str | None = None,
) -> list[Segment]:
    """Alternate walks and stops; ``actions`` are performed during stops (one per stop)."""
    segs: list[Segment] = []
    W = scene.width
    x, y = random_floor_point(rng, scene, restricted=restricted)
    t = t_start
    if enter:
        ex = -W * 0.08 if rng.random() < 0.5 else W * 1.08
        speed = scene.person_height(y) * rng.uniform(0.5, 0.9)
        dur = abs(x - ex) / speed
        segs.append(Segment(t, t + dur, ex, y, x, y))
        t += dur
    todo = list(actions or [])
    while t < t_end:
        stop = float(rng.uniform(2.5, 7.0))
        act = todo.pop(0) if todo else ("work" if rng.random() < 0.6 else "stand")
        if act.startswith(("phone", "smoke")):
            stop = float(rng.uniform(4.5, 9.0))
        facing = facing_pref or ["front", "front", "left", "right", "back"][int(rng.integers(5))]
        if act.startswith(("phone", "smoke")) and facing == "back" and facing_pref is None:
            facing = "front"
        segs.append(Segment(t, min(t_end, t + stop), x, y, x, y, facing, act))
        t += stop
        if t >= t_end:
            break
        nx, ny = random_floor_point(rng, scene, restricted=restricted)
        speed = scene.person_height(max(y, ny)) * rng.uniform(0.45, 0.9)
        dur = max(0.8, math.hypot(nx - x, ny - y) / speed)
        segs.append(Segment(t, min(t_end, t + dur), x, y, nx, ny))
        x, y, t = nx, ny, t + dur
    if leave and segs:
        last = segs[-1]
        ex = -W * 0.1 if last.x1 < W / 2 else W * 1.1
        segs[-1] = Segment(
            last.t0,
            last.t0 + (last.t1 - last.t0) * 0.5,
            last.x0,
            last.y0,
            last.x1,
            last.y1,
            last.facing,
            last.action,
        )
        t0 = segs[-1].t1
        segs.append(
            Segment(
                t0,
                t0 + abs(ex - last.x1) / (scene.person_height(last.y1) * 0.7),
                last.x1,
                last.y1,
                ex,
                last.y1,
            )
        )
    return segs


def rat_points(
    rng: np.random.Generator, scene: Scene, t0: float, t1: float
) -> tuple[list[tuple[float, float, float]], float]:
    lane_y, lx1, lx2 = scene.rat_lanes[int(rng.integers(len(scene.rat_lanes)))]
    y = min(scene.height - 3.0, lane_y + rng.uniform(-2, 3))
    W = scene.width
    go_right = rng.random() < 0.5
    x = max(-W * 0.05, lx1 - 20) if go_right else min(W * 1.05, lx2 + 20)
    pts = [(t0, x, y)]
    t = t0
    while t < t1:
        dx = rng.uniform(W * 0.1, W * 0.35) * (1 if go_right else -1)
        speed = rng.uniform(70, 170) * W / 640
        t += abs(dx) / speed
        x += dx
        y2 = float(np.clip(y + rng.uniform(-8, 8), lane_y - 6, scene.height - 3))
        pts.append((t, x, y2))
        y = y2
        if rng.random() < 0.45:  # pause, sniffing
            t += rng.uniform(0.4, 1.6)
            pts.append((t, x + (1 if go_right else -1), y))
        if x < -W * 0.1 or x > W * 1.1:
            break
    length = max(16.0, scene.object_scale(y) * 24.0) * rng.uniform(1.0, 1.35)
    return pts, float(length)


def roach_points(
    rng: np.random.Generator, scene: Scene, t0: float, t1: float
) -> tuple[list[tuple[float, float, float]], float, float]:
    surf = scene.surfaces[int(rng.integers(len(scene.surfaces)))]
    x, y = rng.uniform(surf.x1, surf.x2), rng.uniform(surf.y1, surf.y2)
    pts = [(t0, x, y)]
    t = t0
    while t < t1:
        ang = rng.uniform(0, 2 * math.pi)
        dist = rng.uniform(10, 60) * scene.width / 640
        nx = float(np.clip(x + math.cos(ang) * dist, surf.x1, surf.x2))
        ny = float(np.clip(y + math.sin(ang) * dist * 0.5, surf.y1, surf.y2))
        t += max(0.2, math.hypot(nx - x, ny - y) / (rng.uniform(30, 90) * scene.width / 640))
        pts.append((t, nx, ny))
        x, y = nx, ny
        if rng.random() < 0.5:
            t += rng.uniform(0.3, 2.0)
            pts.append((t, x + 0.5, y))
    length = rng.uniform(8.0, 15.0) * scene.height / 360
    return pts, float(length), float(surf.depth_y)


def make_rat(rng: np.random.Generator, scene: Scene, tid: int, t0: float, t1: float) -> PestActor:
    pts, length = rat_points(rng, scene, t0, t1)
    return PestActor(tid, "rat", RAT_COLORS[int(rng.integers(len(RAT_COLORS)))], length, pts)


def make_roach(rng: np.random.Generator, scene: Scene, tid: int, t0: float, t1: float) -> PestActor:
    pts, length, depth = roach_points(rng, scene, t0, t1)
    return PestActor(tid, "cockroach", ROACH_COLORS[int(rng.integers(len(ROACH_COLORS)))], length, pts, depth)


def make_bin(
    rng: np.random.Generator, scene: Scene, tid: int, spot: int, open_intervals: list[tuple[float, float]]
) -> BinActor:
    x, y = scene.bin_spots[spot % len(scene.bin_spots)]
    height = max(28.0, scene.object_scale(y) * 75.0) * rng.uniform(0.85, 1.15)
    return BinActor(
        tid, float(x), float(y), float(height), BIN_COLORS[int(rng.integers(len(BIN_COLORS)))], open_intervals
    )


def make_props(rng: np.random.Generator, scene: Scene, n: int) -> list[Prop]:
    props = []
    spots = list(scene.prop_spots)
    rng.shuffle(spots)  # type: ignore[arg-type]
    kinds = ["bowls", "towel", "bag", "phone_flat", "pot", "board"]
    for x, y in spots[:n]:
        props.append(
            Prop(
                kinds[int(rng.integers(len(kinds)))],
                float(x),
                float(y),
                float(scene.height * rng.uniform(0.04, 0.07)),
            )
        )
    return props


def look_for(
    rng: np.random.Generator, *, no_hat: bool = False, mask: str = "ok", street: bool = False
) -> Look:
    return random_look(rng, hat=not no_hat, mask=mask, uniform=not street)
