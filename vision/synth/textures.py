"""Procedural textures: tiles, stainless steel, wood, perspective floors."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.canvas import Color, shade

Image = npt.NDArray[np.uint8]


def jitter_color(rng: np.random.Generator, base: Color, amount: float) -> Color:
    return tuple(int(np.clip(c + rng.normal(0, amount), 0, 255)) for c in base)  # type: ignore[return-value]


def tiles(rng: np.random.Generator, w: int, h: int, tile: int, color: Color, grout: Color) -> Image:
    img = np.empty((h, w, 3), np.uint8)
    img[:] = grout
    for y in range(0, h, tile):
        for x in range(0, w, tile):
            c = jitter_color(rng, color, 6)
            img[y + 1 : y + tile - 1, x + 1 : x + tile - 1] = c
    return img


def stainless(rng: np.random.Generator, w: int, h: int, base: int = 175) -> Image:
    grad = np.linspace(base + 25, base - 30, h, dtype=np.float32)[:, None]
    img = np.repeat(grad, w, axis=1)
    streaks = rng.normal(0, 6, (1, w)).astype(np.float32)
    img = img + cv2.GaussianBlur(streaks, (0, 0), 3)
    hl = int(h * rng.uniform(0.1, 0.4))
    img[max(0, hl - 1) : hl + 2] += 35
    out = np.clip(img, 0, 255).astype(np.uint8)
    return cv2.merge([out, out, np.clip(out.astype(np.int16) - 3, 0, 255).astype(np.uint8)])


def wood(rng: np.random.Generator, w: int, h: int, color: Color) -> Image:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    freq = rng.uniform(0.15, 0.35)
    phase = rng.uniform(0, 6.28)
    grain = np.sin(yy * freq + np.sin(xx * 0.02 + phase) * 3.0) * 0.5 + 0.5
    img = np.empty((h, w, 3), np.float32)
    for i in range(3):
        img[..., i] = color[i] * (0.8 + 0.25 * grain)
    return np.clip(img, 0, 255).astype(np.uint8)


def painted(rng: np.random.Generator, w: int, h: int, color: Color) -> Image:
    img = np.empty((h, w, 3), np.float32)
    img[:] = color
    noise = cv2.GaussianBlur(rng.normal(0, 5, (h, w)).astype(np.float32), (0, 0), 8)
    img += noise[..., None] * 2
    return np.clip(img, 0, 255).astype(np.uint8)


def perspective_floor(
    rng: np.random.Generator, w: int, h: int, y_top: int, vp: tuple[float, float], color: Color, grout: Color
) -> Image:
    """Floor tiles below ``y_top`` converging to the vanishing point ``vp``."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = color
    vx, vy = vp
    # horizontal grout lines, spacing growing with distance to the camera
    y = float(y_top)
    step = max(4.0, (y_top - vy) * 0.18)
    k = 0
    while y < h:
        c = jitter_color(rng, color, 5)
        y2 = y + step
        img[int(y) : int(min(h, y2))] = c if k % 2 == 0 else shade(c, 0.96)
        cv2.line(img, (0, int(y)), (w, int(y)), grout, 1)
        y = y2
        step *= 1.0 + 1.6 * step / max(1.0, h - vy)
        k += 1
    # lines converging to the vanishing point
    n = int(rng.integers(10, 18))
    for i in range(-n, 2 * n):
        xb = i * w / n
        xt = vx + (xb - vx) * (y_top - vy) / (h - vy)
        cv2.line(img, (int(xt), y_top), (int(xb), h), grout, 1, cv2.LINE_AA)
    return img


def barrel_maps(w: int, h: int, k: float) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Remap tables for barrel distortion of strength ``k`` >= 0 (wide kitchen cameras).

    Destination pixels read the source further out the further they are from the centre;
    corners map to corners, so nothing outside the source is sampled.
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    nx, ny = (xx - cx) / cx, (yy - cy) / cx
    r2 = nx * nx + ny * ny
    f = (1 + k * r2) / (1 + k * (1 + (cy / cx) ** 2))
    return (cx + nx * f * cx).astype(np.float32), (cy + ny * f * cx).astype(np.float32)
