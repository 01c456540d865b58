"""Our numpy post-processing (``vision.yolo.select_boxes`` / ``nms``) against hand-made boxes and
against ultralytics' NMS on the shipped model's real output; and the promise that the ONNX and
OpenVINO backends run without torch or ultralytics in the process."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import islice
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from vision.decode import read_frames
from vision.profile import Backend, read_profile
from vision.yolo import YoloDetector, nms, select_boxes

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "models" / "kitchen-yolo11n.yaml"
INT8_PROFILE = ROOT / "models" / "kitchen-yolo11n-int8.yaml"
CLIPS = ("canteen_no_hat", "hot_kitchen_smoking", "storage_night", "wash_area_bin_roaches")


def _nms(
    boxes: list[list[float]], scores: list[float], classes: list[int], iou: float = 0.5, max_det: int = 300
) -> list[int]:
    kept = nms(
        np.array(boxes, dtype=np.float32).reshape(-1, 4),
        np.array(scores, dtype=np.float32),
        np.array(classes, dtype=np.int64),
        iou,
        max_det,
    )
    return kept.tolist()


A = [0.0, 0.0, 10.0, 10.0]
A_SHIFTED = [1.0, 0.0, 11.0, 10.0]  # IoU with A = 90 / 110 = 0.818
A_HALF = [5.0, 0.0, 15.0, 10.0]  # IoU with A = 50 / 150 = 1/3
FAR = [100.0, 100.0, 120.0, 130.0]


@pytest.mark.parametrize(
    ("boxes", "scores", "classes", "iou", "max_det", "expected"),
    [
        ([], [], [], 0.5, 300, []),
        ([A], [0.9], [0], 0.5, 300, [0]),
        ([A, A_SHIFTED], [0.8, 0.9], [0, 0], 0.5, 300, [1]),  # the stronger one stays
        ([A, A_SHIFTED], [0.8, 0.9], [0, 1], 0.5, 300, [1, 0]),  # other class: both stay
        ([A, A_SHIFTED], [0.9, 0.8], [0, 0], 0.85, 300, [0, 1]),  # overlap under the IoU bar
        ([A, A_HALF], [0.9, 0.8], [0, 0], 1 / 3, 300, [0, 1]),  # exactly at the bar: kept
        ([A, A_HALF, FAR], [0.5, 0.9, 0.7], [2, 2, 2], 0.3, 300, [1, 2]),  # A loses to A_HALF
        ([A, FAR, A_SHIFTED], [0.6, 0.9, 0.7], [0, 0, 1], 0.5, 2, [1, 2]),  # max_det, by score
        # chain: B suppressed by A, so C (overlapping only B) survives
        ([A, A_HALF, [10.0, 0.0, 20.0, 10.0]], [0.9, 0.8, 0.7], [0, 0, 0], 0.3, 300, [0, 2]),
        ([[5.0, 5.0, 5.0, 5.0], [5.0, 5.0, 5.0, 5.0]], [0.9, 0.8], [0, 0], 0.5, 300, [0, 1]),  # empty boxes
    ],
)
def test_nms_table(
    boxes: list[list[float]],
    scores: list[float],
    classes: list[int],
    iou: float,
    max_det: int,
    expected: list[int],
) -> None:
    assert _nms(boxes, scores, classes, iou, max_det) == expected


def _head(rows: list[tuple[float, float, float, float, int, float]], nc: int = 3) -> npt.NDArray[np.float32]:
    """A raw head ``(4 + nc, anchors)`` from (cx, cy, w, h, class, score) rows."""
    out = np.zeros((4 + nc, len(rows)), dtype=np.float32)
    for j, (cx, cy, w, h, c, s) in enumerate(rows):
        out[:4, j] = cx, cy, w, h
        out[4 + c, j] = s
    return out


def test_select_boxes_thresholds_per_class_and_converts_xywh() -> None:
    head = _head(
        [
            (50, 50, 20, 10, 0, 0.55),  # class 0 needs 0.5: kept
            (150, 50, 20, 10, 1, 0.55),  # class 1 needs 0.6: dropped
            (250, 50, 20, 10, 2, 0.30),  # class 2 needs 0.3 (the lowest): dropped, strictly above
            (350, 50, 20, 10, 2, 0.31),  # kept
        ]
    )
    xyxy, conf, cls = select_boxes(head, np.array([0.5, 0.6, 0.3], np.float32), 0.6, 300)
    assert cls.tolist() == [0, 2]
    np.testing.assert_allclose(conf, [0.55, 0.31], rtol=1e-6)
    np.testing.assert_allclose(xyxy, [[40, 45, 60, 55], [340, 45, 360, 55]])


def test_select_boxes_nothing_above_threshold() -> None:
    xyxy, conf, cls = select_boxes(_head([(50, 50, 20, 10, 0, 0.1)]), np.full(3, 0.25, np.float32), 0.6, 300)
    assert xyxy.shape == (0, 4) and conf.shape == (0,) and cls.shape == (0,)


@pytest.fixture(scope="module")
def raw_outputs() -> list[npt.NDArray[np.float32]]:
    """Real network output (OpenVINO) on frames of the sample clips, 2 frames each."""
    det = YoloDetector(read_profile(PROFILE), threads=2)
    out = []
    for clip in CLIPS:
        frames = [
            f.image
            for f in islice(read_frames(ROOT / "sample_videos" / f"{clip}.mp4", camera_id=clip), 0, 60, 30)
        ]
        out.extend(det.raw(frames))
    return out


@pytest.mark.parametrize("default_confidence", [None, 0.05])
def test_same_boxes_as_ultralytics_nms(
    raw_outputs: list[npt.NDArray[np.float32]], default_confidence: float | None
) -> None:
    """The profile's thresholds, and a low 0.05 everywhere (hundreds of candidates, as
    ``eval-model --suggest-thresholds`` runs): the same boxes as ultralytics' NMS (torch)."""
    import torch
    from ultralytics.utils.nms import non_max_suppression

    profile = read_profile(PROFILE)
    if default_confidence is not None:
        profile = profile.with_confidence(default_confidence)
    thr = np.array([profile.threshold(n) for n in profile.class_names], dtype=np.float32)
    total = candidates = 0
    for raw in raw_outputs:
        ref = non_max_suppression(
            torch.from_numpy(raw[None]),
            conf_thres=float(thr.min()),
            iou_thres=profile.nms_iou,
            max_det=profile.max_detections,
            nc=len(thr),
        )[0].numpy()
        ref = ref[ref[:, 4] >= thr[ref[:, 5].astype(int)]]
        xyxy, conf, cls = select_boxes(raw, thr, profile.nms_iou, profile.max_detections)
        assert len(conf) == len(ref)
        # the same order on both sides (equal scores of two classes may come in either order)
        mine, theirs = np.lexsort((cls, -conf)), np.lexsort((ref[:, 5], -ref[:, 4]))
        xyxy, conf, cls, ref = xyxy[mine], conf[mine], cls[mine], ref[theirs]
        np.testing.assert_allclose(conf, ref[:, 4], atol=1e-6)
        assert cls.tolist() == ref[:, 5].astype(int).tolist()
        for i in np.flatnonzero(np.abs(xyxy - ref[:, :4]).max(axis=1) > 1e-3):
            # Where the network (bf16 on AMX CPUs) gives two overlapping candidates exactly the
            # same score, either is a right answer and the two sorts may keep different ones:
            # a differing box must be such a tie.
            tied = np.abs(raw[4 + cls[i]] - conf[i]) < 1e-6
            assert tied.sum() >= 2, f"box {i} differs without a tie: {xyxy[i]} vs {ref[i, :4]}"
        total += len(conf)
        candidates += int((raw[4:].max(axis=0) > thr.min()).sum())
    assert total > 20, "the comparison saw real boxes"
    assert candidates > 3 * total, "and NMS had overlapping candidates to remove"


CHILD = """
import json, sys
from itertools import islice
from pathlib import Path
from vision.decode import read_frames
from vision.yolo import load_profile
det, _ = load_profile(Path(sys.argv[1]), backend=sys.argv[2], threads=1)
frame = next(islice(read_frames(Path(sys.argv[3]), camera_id="t"), 10, None)).image
d = det.detect([frame])[0]
heavy = ("torch", "ultralytics", "torchvision", "nncf")
print(json.dumps({"boxes": len(d), "names": sorted(set(d.data["class_name"].tolist())),
                  "heavy": sorted(m for m in heavy if m in sys.modules)}))
"""


@pytest.mark.parametrize(
    ("profile", "backend"),
    [(PROFILE, Backend.OPENVINO), (PROFILE, Backend.ONNX), (INT8_PROFILE, Backend.OPENVINO)],
    ids=["openvino", "onnx", "openvino-int8"],
)
def test_exported_backends_never_import_torch(profile: Path, backend: Backend) -> None:
    """torch + ultralytics cost ~650 MB of RSS in a camera process that does not need them (nor
    does the INT8 model need nncf, which imports torch, at run time)."""
    clip = ROOT / "sample_videos" / "canteen_no_hat.mp4"
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(profile), backend.value, str(clip)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["heavy"] == []
    assert got["boxes"] > 0 and "person" in got["names"]
