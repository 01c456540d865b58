"""A synthetic camera whose frames carry their own index as a block code, for latency checks.

Each frame shows ``BITS`` large black/white squares (frame index, binary) that survive any video
codec; a receiver reads the index back with ``read_index`` and looks up when that frame left the
source (``ClockSource.sent``) to get end-to-end latency.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from vision.types import Frame

BITS = 14
CELL = 40


class ClockSource:
    """A live ``FrameSource`` at ``fps`` that records the wall time each frame was handed out."""

    def __init__(self, camera_id: str, fps: float = 15.0, size_wh: tuple[int, int] = (640, 360)) -> None:
        self.camera_id = camera_id
        self.nominal_fps: float | None = fps
        self.size_wh = size_wh
        self.sent: dict[int, float] = {}
        self._i = 0
        self._t0 = 0.0
        rng = np.random.default_rng(5)
        w, h = size_wh
        self._scene = rng.integers(60, 200, size=(h, w, 3), dtype=np.uint8)

    def open(self) -> None:
        self._t0 = time.monotonic() - self._i / (self.nominal_fps or 15.0)

    def read(self) -> Frame | None:
        fps = self.nominal_fps or 15.0
        delay = self._t0 + self._i / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        img = self._scene.copy()
        draw_index(img, self._i)
        now = time.time()
        self.sent[self._i] = now
        frame = Frame(self.camera_id, self._i / fps, img, self._i, now)
        self._i += 1
        return frame

    def close(self) -> None:
        return None

    def probe(self) -> bool | None:
        return True


def draw_index(img: npt.NDArray[np.uint8], index: int) -> None:
    for b in range(BITS):
        on = (index >> b) & 1
        x = 8 + b * (CELL + 4)
        img[8 : 8 + CELL, x : x + CELL] = 255 if on else 0


def read_index(img: npt.NDArray[np.uint8]) -> int:
    index = 0
    for b in range(BITS):
        x = 8 + b * (CELL + 4)
        cell = img[8 + CELL // 4 : 8 + 3 * CELL // 4, x + CELL // 4 : x + 3 * CELL // 4]
        if float(cell.mean()) > 127:
            index |= 1 << b
    return index
