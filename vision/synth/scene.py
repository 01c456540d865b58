"""Kitchen scenes: procedurally varied layout, textures, camera height and lens.

A ``Scene`` is the static part of a video: a pre-rendered background, front occluders (counters
people stand behind), the walkable floor, lanes where rats run, surfaces where cockroaches crawl,
spots for bins and props, and the camera's zones (restricted areas, always-moving areas).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from vision.rule_config import Zone
from vision.synth import textures as tx
from vision.synth.canvas import Canvas, Color, shade

SCENE_KINDS: tuple[str, ...] = ("canteen", "hot_kitchen", "wash_area", "storage")

WALL_COLORS: list[Color] = [
    (235, 238, 240),
    (215, 225, 230),
    (200, 225, 210),
    (205, 215, 235),
    (225, 225, 215),
]
FLOOR_COLORS: list[Color] = [(70, 80, 150), (120, 125, 130), (150, 170, 185), (95, 110, 120), (60, 95, 125)]


@dataclass
class Occluder:
    """A front object composited over everything whose depth (feet y) is smaller."""

    depth_y: float
    image: npt.NDArray[np.uint8]
    mask: npt.NDArray[np.bool_]


@dataclass
class Surface:
    """An axis-aligned region where small pests crawl, with its depth for draw order."""

    x1: float
    y1: float
    x2: float
    y2: float
    depth_y: float


@dataclass
class Scene:
    kind: str
    seed: int
    width: int
    height: int
    background: npt.NDArray[np.uint8]
    wall_y: float  # where the back wall meets the floor
    horizon_y: float
    person_scale: float
    floor: tuple[float, float, float, float]  # x1, y1, x2, y2 for people's feet
    occluders: list[Occluder] = field(default_factory=list)
    surfaces: list[Surface] = field(default_factory=list)
    rat_lanes: list[tuple[float, float, float]] = field(default_factory=list)  # y, x1, x2
    bin_spots: list[tuple[float, float]] = field(default_factory=list)  # x, base y
    prop_spots: list[tuple[float, float]] = field(default_factory=list)  # counter-top x, y
    zones: list[Zone] = field(default_factory=list)
    screen: tuple[int, int, int, int] | None = None  # a monitor with changing content
    stoves: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, width (flames)
    distortion_k: float = 0.0
    brightness: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def person_height(self, feet_y: float) -> float:
        """Height in pixels of a 1.7 m person whose feet are at ``feet_y`` (ground-plane perspective)."""
        return max(8.0, self.person_scale * (feet_y - self.horizon_y))

    def object_scale(self, y: float) -> float:
        """Pixels per centimetre at image row ``y`` on the floor plane."""
        return self.person_height(y) / 170.0


def build_scene(kind: str, seed: int, width: int = 640, height: int = 360) -> Scene:
    if kind not in SCENE_KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; choose one of {', '.join(SCENE_KINDS)}")
    rng = np.random.default_rng([seed, SCENE_KINDS.index(kind), 7])
    W, H = width, height
    s = H / 360.0
    wall_y = H * rng.uniform(0.30, 0.42)
    horizon_y = wall_y - H * rng.uniform(0.35, 0.6)
    # choose the scale so a person standing near the bottom is 55–80% of the frame tall
    person_scale = H * rng.uniform(0.55, 0.8) / (H - horizon_y)
    bg = np.empty((H, W, 3), np.uint8)
    wall_kind = rng.integers(0, 3)
    wall_col = WALL_COLORS[rng.integers(len(WALL_COLORS))]
    wy = int(wall_y)
    if wall_kind == 0:
        bg[:wy] = tx.tiles(rng, W, wy, int(rng.integers(14, 30) * s), wall_col, shade(wall_col, 0.8))
    elif wall_kind == 1:
        upper = tx.painted(rng, W, wy, tx.jitter_color(rng, (215, 220, 220), 10))
        bg[:wy] = upper
        band = int(wy * rng.uniform(0.4, 0.7))
        bg[band:wy] = tx.tiles(
            rng, W, wy - band, int(rng.integers(12, 22) * s), wall_col, shade(wall_col, 0.82)
        )
    else:
        bg[:wy] = tx.painted(rng, W, wy, wall_col)
    floor_col = FLOOR_COLORS[rng.integers(len(FLOOR_COLORS))]
    vp = (W * rng.uniform(0.3, 0.7), horizon_y)
    floor = tx.perspective_floor(rng, W, H, wy, vp, floor_col, shade(floor_col, 0.75))
    bg[wy:] = floor[wy:]
    # skirting line
    cv2.line(bg, (0, wy), (W, wy), shade(floor_col, 0.6), max(1, int(2 * s)))
    scene = Scene(
        kind=kind,
        seed=seed,
        width=W,
        height=H,
        background=bg,
        wall_y=wall_y,
        horizon_y=horizon_y,
        person_scale=person_scale,
        floor=(W * 0.04, wall_y + H * 0.2, W * 0.96, H * 1.04),
        distortion_k=float(rng.uniform(0.0, 0.22)),
        brightness=float(rng.uniform(0.8, 1.1)),
        tint=(float(rng.uniform(0.9, 1.1)), 1.0, float(rng.uniform(0.9, 1.1))),
    )
    _BUILDERS[kind](scene, rng)
    return scene


def _back_counter(scene: Scene, rng: np.random.Generator, x1: float, x2: float, steel: bool = True) -> float:
    """A counter against the back wall; returns its top y. Props and pests use its top."""
    H = scene.height
    top = scene.wall_y - H * rng.uniform(0.07, 0.12)
    depth = H * rng.uniform(0.03, 0.06)
    c = Canvas(scene.background)
    xi1, xi2 = int(x1), int(x2)
    front_top, front_bot = int(top + depth), int(scene.wall_y + depth)
    if steel:
        scene.background[front_top:front_bot, xi1:xi2] = tx.stainless(rng, xi2 - xi1, front_bot - front_top)
        scene.background[int(top) : front_top, xi1:xi2] = tx.stainless(
            rng, xi2 - xi1, front_top - int(top), 205
        )
    else:
        wood_col = tx.jitter_color(rng, (60, 100, 150), 15)
        scene.background[front_top:front_bot, xi1:xi2] = tx.wood(
            rng, xi2 - xi1, front_bot - front_top, wood_col
        )
        scene.background[int(top) : front_top, xi1:xi2] = tx.wood(
            rng, xi2 - xi1, front_top - int(top), shade(wood_col, 1.2)
        )
    c.line((x1, front_top), (x2, front_top), (230, 230, 230), 1)
    scene.surfaces.append(Surface(x1 + 4, top + 1, x2 - 4, front_top - 1, front_bot))
    step = scene.width * 0.07
    x = x1 + step * rng.uniform(0.3, 1.0)
    while x < x2 - step * 0.5:
        scene.prop_spots.append((x, top + depth * 0.6))
        x += step * rng.uniform(0.8, 1.6)
    scene.rat_lanes.append((front_bot + 2, x1, x2))
    return top


def _front_counter(
    scene: Scene, rng: np.random.Generator, x1: float, x2: float, y_top: float, depth: float
) -> None:
    """A counter in the room that hides the legs of people behind it (serving line, sinks)."""
    W, H = scene.width, scene.height
    img = np.zeros((H, W, 3), np.uint8)
    mask = np.zeros((H, W), np.bool_)
    body_h = H * rng.uniform(0.16, 0.22)
    yt, yb = int(y_top), int(min(H, y_top + depth + body_h))
    xi1, xi2 = int(max(0, x1)), int(min(W, x2))
    img[yt : int(y_top + depth), xi1:xi2] = tx.stainless(rng, xi2 - xi1, int(y_top + depth) - yt, 210)
    img[int(y_top + depth) : yb, xi1:xi2] = tx.stainless(rng, xi2 - xi1, yb - int(y_top + depth), 160)
    mask[yt:yb, xi1:xi2] = True
    scene.occluders.append(Occluder(depth_y=y_top + depth + body_h * 0.5, image=img, mask=mask))
    scene.surfaces.append(Surface(x1 + 4, y_top + 1, x2 - 4, y_top + depth - 1, y_top + depth + body_h + 1))
    scene.rat_lanes.append((min(H - 4, yb + 2), x1, x2))
    cx = x1 + (x2 - x1) * 0.1
    while cx < x2 - 30:
        scene.prop_spots.append((cx, y_top + depth * 0.5))
        cx += (x2 - x1) * rng.uniform(0.12, 0.25)


def _restricted(scene: Scene, name: str, x1: float, x2: float) -> None:
    y1 = (scene.wall_y + scene.height * 0.05) / scene.height
    scene.zones.append(Zone(name=name, polygon=[(x1, y1), (x2, y1), (x2, 1.0), (x1, 1.0)], restricted=True))


def _screen(scene: Scene, rng: np.random.Generator) -> None:
    W, H = scene.width, scene.height
    w, h = int(W * rng.uniform(0.08, 0.12)), int(H * rng.uniform(0.08, 0.12))
    x = int(rng.uniform(0.05, 0.85) * W)
    y = int(max(2, scene.wall_y * rng.uniform(0.1, 0.35)))
    cv2.rectangle(scene.background, (x - 3, y - 3), (x + w + 3, y + h + 3), (30, 30, 30), -1)
    scene.screen = (x, y, x + w, y + h)
    pad = 0.02
    scene.zones.append(
        Zone(
            name="screen",
            polygon=[
                (max(0.0, x / W - pad), max(0.0, y / H - pad)),
                (min(1.0, (x + w) / W + pad), max(0.0, y / H - pad)),
                (min(1.0, (x + w) / W + pad), min(1.0, (y + h) / H + pad)),
                (max(0.0, x / W - pad), min(1.0, (y + h) / H + pad)),
            ],
            ignore_motion=True,
        )
    )


def _canteen(scene: Scene, rng: np.random.Generator) -> None:
    W, H = scene.width, scene.height
    _back_counter(scene, rng, W * rng.uniform(0.0, 0.2), W * rng.uniform(0.75, 1.0))
    y_top = H * rng.uniform(0.6, 0.7)
    x1, x2 = W * rng.uniform(0.0, 0.12), W * rng.uniform(0.7, 1.0)
    _front_counter(scene, rng, x1, x2, y_top, H * 0.05)
    occ = scene.occluders[-1]
    # food pans on the serving line
    x = x1 + 10
    while x < x2 - W * 0.1:
        pw = W * rng.uniform(0.07, 0.1)
        col = [(240, 245, 245), (60, 140, 70), (40, 60, 170), (70, 170, 210), (50, 90, 140)][rng.integers(5)]
        cv2.rectangle(
            occ.image, (int(x), int(y_top + 2)), (int(x + pw), int(y_top + H * 0.04)), (150, 150, 150), -1
        )
        cv2.rectangle(
            occ.image, (int(x + 2), int(y_top + 4)), (int(x + pw - 2), int(y_top + H * 0.035)), col, -1
        )
        x += pw + W * 0.01
    scene.floor = (W * 0.06, y_top - H * 0.08, W * 0.94, H * 1.04)
    if rng.random() < 0.7:
        _screen(scene, rng)
    _restricted(scene, "back_door", 0.8, 1.0)
    scene.bin_spots += [(W * rng.uniform(0.85, 0.95), H * rng.uniform(0.85, 0.98)), (W * 0.05, y_top)]


def _hot_kitchen(scene: Scene, rng: np.random.Generator) -> None:
    W, H = scene.width, scene.height
    x1, x2 = W * rng.uniform(0.0, 0.1), W * rng.uniform(0.55, 0.75)
    top = _back_counter(scene, rng, x1, x2)
    # stoves on the counter with a hood above
    n = int(rng.integers(2, 4))
    for i in range(n):
        cx = x1 + (x2 - x1) * (i + 0.5) / n
        cv2.ellipse(
            scene.background,
            (int(cx), int(top + 4)),
            (int(W * 0.045), int(H * 0.012)),
            0,
            0,
            360,
            (25, 25, 25),
            -1,
        )
        scene.stoves.append((cx, top, W * 0.05))
    hood = np.array(
        [
            [x1, top - H * 0.2],
            [x2, top - H * 0.2],
            [x2 - W * 0.03, top - H * 0.3],
            [x1 + W * 0.03, top - H * 0.3],
        ]
    )
    cv2.fillPoly(scene.background, [hood.astype(np.int32)], (185, 185, 190))
    _back_counter(scene, rng, x2 + W * 0.04, W, steel=rng.random() < 0.5)
    scene.floor = (W * 0.05, scene.wall_y + H * 0.18, W * 0.95, H * 1.04)
    if rng.random() < 0.5:
        _front_counter(scene, rng, W * rng.uniform(0.55, 0.7), W * 1.0, H * rng.uniform(0.72, 0.8), H * 0.04)
    _restricted(scene, "gas_room", 0.0, 0.15)
    scene.bin_spots += [
        (W * rng.uniform(0.3, 0.6), H * rng.uniform(0.9, 1.0)),
        (W * 0.93, scene.wall_y + H * 0.1),
    ]


def _wash_area(scene: Scene, rng: np.random.Generator) -> None:
    W, H = scene.width, scene.height
    top = _back_counter(scene, rng, W * 0.0, W * rng.uniform(0.6, 0.9))
    n = int(rng.integers(2, 4))
    for i in range(n):
        cx = W * (0.1 + 0.7 * (i + 0.5) / n)
        cv2.rectangle(
            scene.background,
            (int(cx - W * 0.05), int(top + 2)),
            (int(cx + W * 0.05), int(top + H * 0.03)),
            (120, 120, 125),
            -1,
        )
        cv2.line(scene.background, (int(cx), int(top - H * 0.06)), (int(cx), int(top)), (200, 200, 205), 3)
    # dish rack with white plates on the wall (hat-like hard negatives)
    rx = int(W * rng.uniform(0.1, 0.6))
    for j in range(int(rng.integers(5, 10))):
        cv2.ellipse(
            scene.background,
            (rx + j * int(W * 0.018), int(top - H * 0.1)),
            (4, int(H * 0.035)),
            0,
            0,
            360,
            (245, 245, 245),
            -1,
        )
    if rng.random() < 0.6:
        _front_counter(
            scene,
            rng,
            W * rng.uniform(0.0, 0.3),
            W * rng.uniform(0.55, 0.8),
            H * rng.uniform(0.68, 0.78),
            H * 0.04,
        )
    scene.floor = (W * 0.05, scene.wall_y + H * 0.18, W * 0.95, H * 1.04)
    _restricted(scene, "chemicals", 0.85, 1.0)
    scene.bin_spots += [
        (W * rng.uniform(0.6, 0.95), H * rng.uniform(0.85, 0.98)),
        (W * rng.uniform(0.05, 0.3), H * 0.95),
    ]


def _storage(scene: Scene, rng: np.random.Generator) -> None:
    W, H = scene.width, scene.height
    scene.brightness *= 0.8
    # shelves with boxes and sacks against the back wall
    n = int(rng.integers(2, 4))
    for i in range(n):
        x1 = W * (0.02 + 0.95 * i / n)
        x2 = x1 + W * 0.95 / n - W * 0.03
        top = scene.wall_y - H * rng.uniform(0.25, 0.32)
        col = (150, 150, 155) if rng.random() < 0.5 else (50, 90, 130)
        for lvl in range(3):
            y = top + lvl * (scene.wall_y - top) / 3
            cv2.rectangle(scene.background, (int(x1), int(y)), (int(x2), int(y + 3)), col, -1)
            bx = x1 + 3
            while bx < x2 - 15:
                bw = W * rng.uniform(0.03, 0.06)
                bh = (scene.wall_y - top) / 3 * rng.uniform(0.5, 0.9)
                bc = tx.jitter_color(
                    rng, [(60, 120, 170), (200, 200, 200), (90, 150, 200), (40, 40, 150)][rng.integers(4)], 15
                )
                cv2.rectangle(
                    scene.background, (int(bx), int(y - bh)), (int(min(x2, bx + bw)), int(y)), bc, -1
                )
                cv2.rectangle(
                    scene.background,
                    (int(bx), int(y - bh)),
                    (int(min(x2, bx + bw)), int(y)),
                    shade(bc, 0.7),
                    1,
                )
                bx += bw + 2
        cv2.line(scene.background, (int(x1), int(top)), (int(x1), int(scene.wall_y)), col, 3)
        cv2.line(scene.background, (int(x2), int(top)), (int(x2), int(scene.wall_y)), col, 3)
        scene.surfaces.append(Surface(x1 + 3, top - 6, x2 - 3, top + 2, scene.wall_y))
    scene.rat_lanes.append((scene.wall_y + 3, 0, W))
    scene.rat_lanes.append((H * rng.uniform(0.7, 0.9), 0, W))
    scene.surfaces.append(Surface(W * 0.05, scene.wall_y + 4, W * 0.95, H * 0.98, H * 0.98))
    scene.floor = (W * 0.05, scene.wall_y + H * 0.15, W * 0.95, H * 1.04)
    _restricted(scene, "cold_store", 0.0, 0.25)
    scene.bin_spots += [(W * rng.uniform(0.3, 0.7), H * rng.uniform(0.8, 0.95))]


_BUILDERS = {"canteen": _canteen, "hot_kitchen": _hot_kitchen, "wash_area": _wash_area, "storage": _storage}
