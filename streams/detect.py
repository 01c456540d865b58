"""One detector per process, shared by every camera, batching their frames.

A model loaded once per camera multiplies memory and thrashes two CPU cores; one model fed
batches keeps both busy with real work. Each camera gets a ``CameraDetector`` client that looks
like a plain ``vision.detector.Detector`` to its pipeline: ``detect(images)`` blocks until the
shared thread has run the batch that contains those images.

The batching rule: when the first request arrives, wait at most ``max_wait_s`` for others, or
until ``max_batch`` images are pending, then run them all in one call. With N cameras each
blocked on its own request, batches fill up to N without any timer tuning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import supervision as sv

from vision.detector import Detector, detect_for_cameras


class NullDetector:
    """A detector that finds nothing: the runtime then watches camera health only."""

    class_names: tuple[str, ...] = ()
    model_version = "none"

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        return [sv.Detections.empty() for _ in images]


@dataclass(slots=True)
class _Request:
    images: list[npt.NDArray[np.uint8]]
    camera_id: str = ""
    future: Future[list[sv.Detections]] = field(default_factory=Future)


@dataclass(slots=True)
class BatchStats:
    batches: int = 0
    images: int = 0
    busy_s: float = 0.0

    @property
    def mean_batch(self) -> float:
        return self.images / self.batches if self.batches else 0.0


class BatchingDetector:
    """Runs ``detector`` on one thread over batches gathered from many cameras."""

    def __init__(self, detector: Detector, *, max_batch: int = 16, max_wait_s: float = 0.005) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.detector = detector
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.stats = BatchStats()
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="detector", daemon=True)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.detector.class_names)

    @property
    def model_version(self) -> str:
        return self.detector.model_version

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._fail_pending(RuntimeError("detector stopped"))

    def submit(
        self, images: Sequence[npt.NDArray[np.uint8]], camera_id: str = ""
    ) -> Future[list[sv.Detections]]:
        req = _Request(list(images), camera_id)
        with self._cond:
            if self._stop:
                req.future.set_exception(RuntimeError("detector stopped"))
                return req.future
            self._pending.append(req)
            self._cond.notify()
        return req.future

    def client(self, camera_id: str, on_result: Callable[[int], None] | None = None) -> CameraDetector:
        return CameraDetector(self, camera_id, on_result)

    def _take_batch(self) -> list[_Request]:
        with self._cond:
            while not self._pending and not self._stop:
                self._cond.wait(0.5)
            if self._stop:
                return []
            deadline = time.monotonic() + self.max_wait_s
            while sum(len(r.images) for r in self._pending) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop:
                    break
                self._cond.wait(left)
            batch: list[_Request] = []
            n = 0
            while self._pending and (not batch or n + len(self._pending[0].images) <= self.max_batch):
                req = self._pending.pop(0)
                batch.append(req)
                n += len(req.images)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                return
            images = [img for req in batch for img in req.images]
            cameras = [req.camera_id for req in batch for _ in req.images]
            t0 = time.perf_counter()
            try:
                results = detect_for_cameras(self.detector, images, cameras)
            except Exception as exc:  # one bad batch must not kill every camera's detector
                for req in batch:
                    req.future.set_exception(exc)
                continue
            self.stats.batches += 1
            self.stats.images += len(images)
            self.stats.busy_s += time.perf_counter() - t0
            i = 0
            for req in batch:
                req.future.set_result(list(results[i : i + len(req.images)]))
                i += len(req.images)

    def _fail_pending(self, exc: Exception) -> None:
        with self._cond:
            pending, self._pending = self._pending, []
        for req in pending:
            if not req.future.done():
                req.future.set_exception(exc)


class CameraDetector:
    """A camera's view of the shared detector; remembers its last result for live overlays."""

    def __init__(
        self, shared: BatchingDetector, camera_id: str, on_result: Callable[[int], None] | None = None
    ) -> None:
        self.shared = shared
        self.camera_id = camera_id
        self.on_result = on_result
        self.class_names: tuple[str, ...] = shared.class_names
        self.model_version: str = shared.model_version
        self.last: sv.Detections | None = None
        self.last_size_wh: tuple[int, int] | None = None

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        if not images:
            return []
        results = self.shared.submit(images, self.camera_id).result(timeout=60)
        self.last = results[-1]
        self.last_size_wh = (int(images[-1].shape[1]), int(images[-1].shape[0]))
        if self.on_result is not None:
            self.on_result(len(images))
        return results
