"""Detection overlays and detector face boxes for the live view, scaled to the shown frame."""

from __future__ import annotations

import numpy as np
import supervision as sv

from streams.detect import BatchingDetector, NullDetector
from streams.live import draw_overlay, face_boxes


def client_with(boxes: list[list[float]], names: list[str]):  # type: ignore[no-untyped-def]
    client = BatchingDetector(NullDetector()).client("cam")
    client.last = sv.Detections(
        xyxy=np.array(boxes, dtype=np.float32),
        confidence=np.full(len(boxes), 0.9, dtype=np.float32),
        class_id=np.arange(len(boxes)),
        data={"class_name": np.array(names)},
    )
    client.last_size_wh = (320, 180)  # detections were made on a half-size frame
    return client


def test_overlay_draws_scaled_boxes_on_a_copy() -> None:
    client = client_with([[10, 20, 60, 90]], ["head_bare"])
    img = np.zeros((360, 640, 3), np.uint8)
    out = draw_overlay(img, client)
    assert img.max() == 0  # the camera's frame is shared by every viewer: never drawn on
    assert out[40:180, 20].max() > 0 and out[40:180, 119].max() > 0  # left and right edges, scaled x2
    assert out[100, 60:100].max() == 0  # inside the box stays clear


def test_overlay_without_detections_returns_the_frame() -> None:
    img = np.zeros((36, 64, 3), np.uint8)
    assert draw_overlay(img, None) is img
    assert draw_overlay(img, BatchingDetector(NullDetector()).client("c")) is img


def test_face_boxes_keep_heads_and_faces_only() -> None:
    client = client_with(
        [[10, 20, 60, 90], [0, 0, 100, 170], [30, 30, 40, 40]], ["head_hat", "person", "face_mask"]
    )
    assert face_boxes(client, 640, 360) == [(20.0, 40.0, 120.0, 180.0), (60.0, 60.0, 80.0, 80.0)]
    assert face_boxes(None, 640, 360) == []
