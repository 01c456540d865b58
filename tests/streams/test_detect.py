from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from streams.detect import BatchingDetector, NullDetector


class MeanDetector:
    """Returns one box whose confidence is the image's fill value: results are traceable."""

    class_names = ("thing",)
    model_version = "mean-1"

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        self.batch_sizes.append(len(images))
        threading.Event().wait(0.02)  # a model takes time; requests pile up meanwhile
        return [
            sv.Detections(
                xyxy=np.array([[0, 0, 1, 1]], dtype=float),
                confidence=np.array([float(img[0, 0, 0])]),
                class_id=np.array([0]),
            )
            for img in images
        ]


def test_cameras_share_batches_and_each_gets_its_own_result() -> None:
    model = MeanDetector()
    shared = BatchingDetector(model, max_batch=8, max_wait_s=0.005)
    shared.start()
    errors: list[str] = []

    def camera(value: int) -> None:
        client = shared.client(f"c{value}")
        for _ in range(10):
            img = np.full((8, 8, 3), value, np.uint8)
            got = client.detect([img])[0]
            if got.confidence is None or got.confidence[0] != value:
                errors.append(f"camera {value} got {got.confidence}")
        assert client.last is not None and client.last_size_wh == (8, 8)

    threads = [threading.Thread(target=camera, args=(v,)) for v in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    shared.stop()
    assert errors == []
    assert shared.stats.images == 60 and sum(model.batch_sizes) == 60
    assert max(model.batch_sizes) > 1 and shared.stats.mean_batch > 1.5
    assert max(model.batch_sizes) <= 8


def test_the_shared_detector_names_each_images_camera_to_a_camera_aware_model() -> None:
    class CameraAware(MeanDetector):
        def __init__(self) -> None:
            super().__init__()
            self.cameras: list[str] = []

        def detect_cameras(
            self, images: Sequence[npt.NDArray[np.uint8]], cameras: Sequence[str]
        ) -> list[sv.Detections]:
            self.cameras += cameras
            return self.detect(images)

    model = CameraAware()
    shared = BatchingDetector(model, max_batch=8)
    shared.start()
    shared.client("kitchen-1").detect([np.full((2, 2, 3), 1, np.uint8)] * 2)
    shared.client("store").detect([np.full((2, 2, 3), 2, np.uint8)])
    shared.stop()
    assert model.cameras == ["kitchen-1", "kitchen-1", "store"]


def test_a_failing_batch_reaches_the_caller_and_the_thread_survives() -> None:
    class Flaky(MeanDetector):
        def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
            if images[0][0, 0, 0] == 13:
                raise RuntimeError("bad frame")
            return super().detect(images)

    shared = BatchingDetector(Flaky(), max_batch=1)
    shared.start()
    client = shared.client("c")
    with pytest.raises(RuntimeError, match="bad frame"):
        client.detect([np.full((2, 2, 3), 13, np.uint8)])
    assert len(client.detect([np.full((2, 2, 3), 1, np.uint8)])[0]) == 1
    shared.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        client.detect([np.zeros((2, 2, 3), np.uint8)])


def test_null_detector_finds_nothing() -> None:
    out = NullDetector().detect([np.zeros((2, 2, 3), np.uint8)] * 3)
    assert [len(d) for d in out] == [0, 0, 0]
