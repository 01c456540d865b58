"""Detector protocol: a batch of frames (possibly from several cameras) in, typed detections out.

The YOLO implementation (``vision.yolo``: PyTorch / ONNX Runtime / OpenVINO, chosen by the model
profile) lives beside this protocol; only its PyTorch backend imports torch and ultralytics.
Each result is a supervision ``Detections`` with ``xyxy``, ``confidence``, ``class_id`` and
``data["class_name"]`` (numpy array of str), in the pixel coordinates of the input image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import supervision as sv


@runtime_checkable
class Detector(Protocol):
    class_names: tuple[str, ...]
    model_version: str

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]: ...


@runtime_checkable
class CameraAwareDetector(Detector, Protocol):
    """A detector that can use the camera of each image (``vision.refine``: the crop stage runs
    on every Nth detection *of each camera*, whatever batch the frames arrive in)."""

    def detect_cameras(
        self, images: Sequence[npt.NDArray[np.uint8]], cameras: Sequence[str]
    ) -> list[sv.Detections]: ...


def detect_for_cameras(
    detector: Detector, images: Sequence[npt.NDArray[np.uint8]], cameras: Sequence[str]
) -> list[sv.Detections]:
    """``detector.detect(images)``, naming each image's camera to a detector that can use it."""
    if len(cameras) != len(images):
        raise ValueError(f"{len(images)} images but {len(cameras)} camera ids")
    if isinstance(detector, CameraAwareDetector):
        return detector.detect_cameras(images, cameras)
    return detector.detect(images)
