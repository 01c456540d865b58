"""Hand-offs between a camera's threads: a latest-frame-wins slot and a fan-out hub.

``LatestSlot`` is a queue of length one: the reader never blocks, a slow consumer always gets
the newest frame, and every frame overwritten before it was taken counts as a drop. Lag stays
bounded by one frame period plus one processing time, whatever the detector's speed.

``FrameHub`` keeps only the newest frame with a version number; any number of live viewers read
it, so a camera is decoded once however many people watch it.
"""

from __future__ import annotations

import threading

from vision.types import Frame


class LatestSlot:
    """Bounded (size 1) hand-off where the newest frame wins and overwrites are counted.

    >>> s = LatestSlot()
    >>> s.put(f1); s.put(f2)  # doctest: +SKIP
    1
    >>> s.get(timeout_s=0.1) is f2  # doctest: +SKIP
    True
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame) -> int:
        """Store ``frame``; returns how many frames it overwrote (0 or 1)."""
        with self._cond:
            overwritten = 1 if self._frame is not None else 0
            self.dropped += overwritten
            self._frame = frame
            self._cond.notify()
            return overwritten

    def get(self, timeout_s: float | None = None) -> Frame | None:
        """The newest frame, waiting up to ``timeout_s``; ``None`` on timeout or once closed."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait(timeout_s)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class FrameHub:
    """The newest frame of one camera for readers that poll at their own pace (live viewers)."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._version = 0
        self.viewers = 0  # live tracks reading this hub: while > 0 every frame is converted

    def publish(self, frame: Frame) -> None:
        with self._lock:
            self._frame = frame
            self._version += 1

    def latest(self) -> tuple[int, Frame | None]:
        with self._lock:
            return self._version, self._frame

    @property
    def version(self) -> int:
        return self._version

    def add_viewer(self, n: int = 1) -> None:
        with self._lock:
            self.viewers = max(0, self.viewers + n)
