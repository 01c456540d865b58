"""Render a scenario at time ``t``: the image and every visible object's exact box."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.kinds import ObjectClass
from vision.synth import textures as tx
from vision.synth.canvas import Canvas, visible_boxes
from vision.synth.objects import draw_bin, draw_cockroach, draw_prop, draw_rat
from vision.synth.people import (
    PART_CIG,
    PART_FACE,
    PART_HEAD,
    PART_PHONE,
    PART_TORSO,
    PARTS_PER_PERSON,
    PersonParts,
    draw_person,
)
from vision.synth.scenario import Scenario

PEST_BASE = 4000
BIN_BASE = 6000


@dataclass(frozen=True, slots=True)
class GTObject:
    track_id: int
    cls: ObjectClass
    xyxy: tuple[float, float, float, float]


class Renderer:
    """Renders frames of one scenario; deterministic for a given scenario and frame index."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        scene = sc.scene
        self.W, self.H = scene.width, scene.height
        bg = scene.background.copy()
        cv = Canvas(bg)
        for p in sc.props:
            draw_prop(cv, p.kind, p.x, p.y, p.size)
        self.background = bg
        self.maps = tx.barrel_maps(self.W, self.H, scene.distortion_k) if scene.distortion_k > 0.01 else None
        rng = np.random.default_rng([sc.seed, 99])
        self.noise = [rng.normal(0, 1, (self.H, self.W, 1)).astype(np.float32) for _ in range(6)]
        self.shadow_params = [
            (
                rng.uniform(0, self.W),
                rng.uniform(scene.wall_y, self.H),
                rng.uniform(20, 60),
                rng.uniform(-40, 40),
                rng.uniform(0.15, 0.35),
            )
            for _ in range(sc.effects.shadows)
        ]
        self.steam_seeds = rng.uniform(0, 100, 12)
        self.yy, self.xx = np.mgrid[0 : self.H, 0 : self.W].astype(np.float32)
        vign = (
            1.0 - 0.25 * (((self.xx - self.W / 2) / self.W) ** 2 + ((self.yy - self.H / 2) / self.H) ** 2) * 2
        )
        self.vignette = vign[..., None].astype(np.float32)

    # ------------------------------------------------------------------ frame
    def render(self, t: float, index: int = 0) -> tuple[npt.NDArray[np.uint8], list[GTObject]]:
        sc, scene = self.sc, self.sc.scene
        img = self.background.copy()
        cv = Canvas(img)
        self._dynamic_background(cv, t)
        items: list[tuple[float, int, Any]] = []
        for i, person in enumerate(sc.persons):
            pose = person.pose(t)
            if pose is not None:
                items.append((pose.feet_y, 0, (i, pose)))
        for j, pest in enumerate(sc.pests):
            st = pest.state(t)
            if st is not None:
                items.append((pest.depth_y if pest.depth_y is not None else st[1], 1, (j, st)))
        for k, b in enumerate(sc.bins):
            items.append((b.base_y, 2, k))
        for m, occ in enumerate(scene.occluders):
            items.append((occ.depth_y, 3, m))
        items.sort(key=lambda it: (it[0], it[1]))
        parts: list[tuple[int, PersonParts]] = []
        for _, typ, payload in items:
            if typ == 0:
                i, pose = payload
                person = sc.persons[i]
                h = scene.person_height(pose.feet_y)
                parts.append((i, draw_person(cv, person.look, pose, h, self._pid(i), t)))
            elif typ == 1:
                j, (x, y, heading) = payload
                pest = sc.pests[j]
                draw = draw_rat if pest.kind == "rat" else draw_cockroach
                draw(cv, x, y, pest.length_px, heading, pest.color, PEST_BASE + j, t)
            elif typ == 2:
                b = sc.bins[payload]
                draw_bin(cv, b.x, b.base_y, b.height, b.color, b.is_open(t), BIN_BASE + int(payload))
            else:
                occ = scene.occluders[payload]
                img[occ.mask] = occ.image[occ.mask]
                cv.ids[occ.mask] = 0
        img = self._effects(img, t, index)
        ids = cv.ids
        if self.maps is not None:
            img = cv2.remap(img, self.maps[0], self.maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            ids = cv2.remap(
                ids,
                self.maps[0],
                self.maps[1],
                cv2.INTER_NEAREST,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
        img = self._noise(img, index)
        return img, self._labels(ids, parts, t)

    @staticmethod
    def _pid(i: int) -> int:
        return 8 + i * PARTS_PER_PERSON

    def _dynamic_background(self, cv: Canvas, t: float) -> None:
        scene = self.sc.scene
        p = cv.paint_only()
        for x, y, w in scene.stoves:
            for k in range(5):
                fx = x + (k - 2) * w * 0.15
                fh = w * (0.25 + 0.1 * math.sin(t * 9 + k * 1.7))
                p.ellipse(
                    (fx, y - fh * 0.5), (w * 0.06, fh * 0.5), (60, 150, 255) if k % 2 else (255, 170, 80)
                )
        if scene.screen is not None:
            x1, y1, x2, y2 = scene.screen
            phase = int(t * 2) % 4
            col = [(200, 120, 40), (60, 180, 60), (40, 60, 200), (200, 200, 200)][phase]
            cv.img[y1:y2, x1:x2] = col
            cv2.putText(
                cv.img,
                f"{int(t * 7) % 100:02d}",
                (x1 + 3, y2 - 4),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.35,
                (255, 255, 255),
                1,
            )

    def _effects(self, img: npt.NDArray[np.uint8], t: float, index: int) -> npt.NDArray[np.uint8]:
        scene, fx = self.sc.scene, self.sc.effects
        f = img.astype(np.float32)
        if fx.steam and scene.stoves:
            for k, s in enumerate(self.steam_seeds[:6]):
                x, y, w = scene.stoves[k % len(scene.stoves)]
                u = (t * 0.4 + s) % 1.0
                cy, cx = y - 10 - u * self.H * 0.3, x + math.sin(t + s) * w * 0.4
                r = w * (0.3 + u)
                roi, m = self._blob(f, cx, cy, r, r)
                if roi is not None:
                    m *= 0.35 * (1 - u)
                    roi *= 1 - m
                    roi += 235 * m
        for sx, sy, r, vx, a in self.shadow_params:
            roi, m = self._blob(f, (sx + vx * t) % self.W, sy, 2 * r, r)
            if roi is not None:
                roi *= 1 - a * m
        gain = scene.brightness
        level = sum(1 for s in fx.light_switches if t >= s) % 2
        if level:
            gain *= 0.55
        f *= self.vignette * gain
        if fx.night:
            g = f.mean(axis=2, keepdims=True) * 0.45 + 8
            f = np.repeat(g, 3, axis=2) * np.array([1.0, 1.0, 0.97], np.float32)
        else:
            f *= np.array(scene.tint, np.float32)
        return np.clip(f, 0, 255).astype(np.uint8)

    def _blob(
        self, f: npt.NDArray[np.float32], cx: float, cy: float, rx: float, ry: float
    ) -> tuple[Any, npt.NDArray[np.float32]]:
        """A Gaussian blob's weights over the window (±3σ) of ``f`` it touches (a view of ``f``)."""
        x1, x2 = max(0, int(cx - 3 * rx)), min(self.W, int(cx + 3 * rx) + 1)
        y1, y2 = max(0, int(cy - 3 * ry)), min(self.H, int(cy + 3 * ry) + 1)
        if x1 >= x2 or y1 >= y2:
            return None, np.zeros((0, 0, 1), np.float32)
        xx, yy = self.xx[y1:y2, x1:x2], self.yy[y1:y2, x1:x2]
        m = np.exp(-(((xx - cx) ** 2) / (2 * rx * rx) + ((yy - cy) ** 2) / (2 * ry * ry)))[..., None]
        return f[y1:y2, x1:x2], m.astype(np.float32)

    def _noise(self, img: npt.NDArray[np.uint8], index: int) -> npt.NDArray[np.uint8]:
        sigma = self.sc.effects.noise_sigma * (2.0 if self.sc.effects.night else 1.0)
        if sigma <= 0:
            return img
        n = self.noise[index % len(self.noise)] * sigma
        return np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)

    # ------------------------------------------------------------------ labels
    def _labels(
        self, ids: npt.NDArray[np.uint16], parts: list[tuple[int, PersonParts]], t: float
    ) -> list[GTObject]:
        boxes = visible_boxes(ids)
        out: list[GTObject] = []
        sc = self.sc
        for i, pp in parts:
            person = sc.persons[i]
            tid = person.track_id
            base = pp.oid_base
            mine = [boxes[base + k] for k in range(PARTS_PER_PERSON) if base + k in boxes]
            if not mine:
                continue
            px = sum(b[4] for b in mine)
            if px < 0.02 * pp.height_px * pp.height_px:
                continue  # too little of the person is visible
            out.append(GTObject(tid, ObjectClass.PERSON, _union(mine)))
            head = [boxes[base + k] for k in (PART_HEAD, PART_FACE) if base + k in boxes]
            if head and sum(b[4] for b in head) >= 0.45 * pp.expected.get(PART_HEAD, 1e9):
                cls = ObjectClass.HEAD_HAT if person.look.hat else ObjectClass.HEAD_BARE
                out.append(GTObject(tid, cls, _union(head)))
            face = boxes.get(base + PART_FACE)
            if (
                face
                and pp.facing != "back"
                and face[4] >= 0.5 * pp.expected.get(PART_FACE, 1e9)
                and face[2] - face[0] >= 4
            ):
                cls = ObjectClass.FACE_MASK if person.look.mask == "ok" else ObjectClass.FACE_BARE
                out.append(GTObject(tid, cls, _box(face)))
            torso = boxes.get(base + PART_TORSO)
            if torso and torso[4] >= 0.4 * pp.expected.get(PART_TORSO, 1e9):
                cls = ObjectClass.UNIFORM if person.look.uniform else ObjectClass.STREET_CLOTHES
                out.append(GTObject(tid, cls, _box(torso)))
            for part, cls in ((PART_CIG, ObjectClass.CIGARETTE), (PART_PHONE, ObjectClass.PHONE)):
                b = boxes.get(base + part)
                if b and b[4] >= 0.4 * pp.expected.get(part, 1e9):
                    out.append(GTObject(tid, cls, _box(b)))
        for j, pest in enumerate(sc.pests):
            b = boxes.get(PEST_BASE + j)
            if b is None:
                continue
            L = pest.length_px
            expected = (
                math.pi * (L * 0.42) * (L * 0.2) * 1.5 if pest.kind == "rat" else math.pi * L * 0.5 * L * 0.26
            )
            if b[4] >= 0.35 * expected:
                cls = ObjectClass.RAT if pest.kind == "rat" else ObjectClass.COCKROACH
                out.append(GTObject(pest.track_id, cls, _box(b)))
        for k, bn in enumerate(sc.bins):
            b = boxes.get(BIN_BASE + k)
            if b is None or b[4] < 0.35 * bn.height * bn.height * 0.6:
                continue
            cls = ObjectClass.BIN_OPEN if bn.is_open(t) else ObjectClass.BIN_CLOSED
            out.append(GTObject(bn.track_id, cls, _box(b)))
        return out


def _box(b: tuple[int, int, int, int, int]) -> tuple[float, float, float, float]:
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def _union(bs: list[tuple[int, int, int, int, int]]) -> tuple[float, float, float, float]:
    return (
        float(min(b[0] for b in bs)),
        float(min(b[1] for b in bs)),
        float(max(b[2] for b in bs)),
        float(max(b[3] for b in bs)),
    )
