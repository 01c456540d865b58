"""The INT8 model: the shipped one on held-out frames, and ``brightkitchen quantize`` end to end.

Frames come from held-out scene seeds (900_000+, as tests/vision/test_detector.py), never used
for training or calibration (the val split, seeds 500_000+).
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.vision.conftest import Scene, assert_finds_people_and_large_objects, matched
from vision.model_eval import _iou, render_test_split
from vision.profile import Backend, read_profile
from vision.yolo import YoloDetector, load_profile

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "models" / "kitchen-yolo11n.yaml"
INT8_PROFILE = ROOT / "models" / "kitchen-yolo11n-int8.yaml"


def test_int8_profile_is_the_fp32_one_on_int8_weights() -> None:
    fp32, int8 = read_profile(PROFILE), read_profile(INT8_PROFILE)
    assert int8.class_names == fp32.class_names
    assert int8.confidence == fp32.confidence and int8.class_to_kind == fp32.class_to_kind
    assert int8.input_size == fp32.input_size
    weights = int8.weights_path(Backend.OPENVINO)
    assert weights != fp32.weights_path(Backend.OPENVINO)
    size_mb = sum(p.stat().st_size for p in weights.iterdir()) / 1e6
    assert size_mb <= 15, f"INT8 model is {size_mb:.1f} MB"


def test_int8_finds_people_and_large_objects_in_one_batch(scenes: list[Scene]) -> None:
    """Three frames in one network call (the dynamic batch survived quantization)."""
    det, _ = load_profile(INT8_PROFILE, threads=2, max_batch=len(scenes))
    results = det.detect([img for img, _ in scenes])
    assert_finds_people_and_large_objects(scenes, results)


def test_int8_boxes_stay_on_the_fp32_ones(scenes: list[Scene]) -> None:
    """Raw head outputs differ by rounding only: the same people, boxes within a few pixels."""
    fp32, _ = load_profile(PROFILE, threads=2)
    int8, _ = load_profile(INT8_PROFILE, threads=2)
    for img, _ in scenes:
        a, b = fp32.detect([img])[0], int8.detect([img])[0]
        pa = a.xyxy[a.data["class_name"] == "person"]
        pb = b.xyxy[b.data["class_name"] == "person"]
        assert len(pa) == len(pb) > 0
        assert (_iou(pa, pb).max(axis=1) >= 0.9).all()


def test_quantize_command_writes_a_loadable_int8_model(tmp_path: Path, scenes: list[Scene]) -> None:
    """``brightkitchen quantize`` on a small rendered val split: IR, metadata and profile."""
    data = render_test_split(tmp_path / "ds", images=40, val_fraction=0.2, test_fraction=0.1, split="val")
    out, prof = tmp_path / "int8", tmp_path / "p-int8.yaml"
    args = ["quantize", "--profile", str(PROFILE), "--data", str(data), "--images", "6"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--profile-out", str(prof)])
    assert result.exit_code == 0, result.output
    assert "calibrating on 6 images" in result.output
    fp32_mb = sum(p.stat().st_size for p in read_profile(PROFILE).weights_path(Backend.OPENVINO).iterdir())
    assert sum(p.stat().st_size for p in out.iterdir()) < 0.4 * fp32_mb, "weights are stored as INT8"
    det = YoloDetector(read_profile(prof), max_batch=2)
    img, gt = scenes[0]
    d = det.detect([img, img])[1]
    assert matched(gt, d.xyxy, d.data["class_name"], "person") >= 1


def test_quantize_refuses_a_dataset_without_val(tmp_path: Path) -> None:
    data = tmp_path / "d.yaml"
    data.write_text("path: .\ntrain: images/train\nnames: {0: person}\n")
    result = CliRunner().invoke(app, ["quantize", "--profile", str(PROFILE), "--data", str(data)])
    assert result.exit_code == 2
    assert "no 'val' split" in result.output
