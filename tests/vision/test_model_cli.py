"""``brightkitchen train`` / ``eval-model`` through the real CLI, and the false-positive counter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import supervision as sv
from typer.testing import CliRunner

from api.cli import app
from vision.model_eval import count_false_positives, render_test_split
from vision.synth.oracle import GroundTruthDetector

ROOT = Path(__file__).resolve().parents[2]
CLEAN = ROOT / "sample_videos" / "clean_canteen.mp4"
PROFILE = ROOT / "models" / "kitchen-yolo11n.yaml"


def test_eval_model_prints_map_per_class(tmp_path: Path) -> None:
    yml = render_test_split(tmp_path / "ds", images=60, val_fraction=0.1, test_fraction=0.2)
    out = tmp_path / "m.json"
    args = ["eval-model", "--profile", str(PROFILE), "--data", str(yml), "--no-fp", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "12 images" in result.output
    for cls in ("person", "head_bare", "bin_closed"):
        assert f"  {cls} " in result.output
    report = json.loads(out.read_text())
    assert report["map50"] > 0.7  # the real model on held-out scenes
    assert report["per_class"]["person"] > 0.9


def test_eval_model_refuses_a_bad_profile(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("name: x\n")
    result = CliRunner().invoke(app, ["eval-model", "--profile", str(bad), "--no-fp"])
    assert result.exit_code == 2
    assert "invalid model profile" in result.output


class _Shifted:
    """The ground truth moved 200 px right: every box of a clean clip becomes a false positive."""

    def __init__(self, oracle: GroundTruthDetector) -> None:
        self.oracle = oracle
        self.class_names = oracle.class_names
        self.model_version = "shifted"

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        out = []
        for d in self.oracle.detect(images):
            if len(d):
                d = sv.Detections(xyxy=d.xyxy + np.array([200, 0, 200, 0], np.float32), data=d.data)
            out.append(d)
        return out


def test_false_positive_counter() -> None:
    oracle = GroundTruthDetector(CLEAN)
    exact = count_false_positives(oracle, [CLEAN], classes=("person", "head_hat", "rat"), stride=10)
    assert exact.frames == 30
    assert exact.per_class == {"person": 0, "head_hat": 0, "rat": 0}
    shifted = count_false_positives(_Shifted(oracle), [CLEAN], classes=("person", "rat"), stride=10)
    assert shifted.per_class["person"] > 10
    assert shifted.per_class["rat"] == 0  # no rat in a clean clip, none invented
    assert shifted.per_100_frames("person") == 100.0 * shifted.per_class["person"] / 30


def test_train_from_yaml_writes_weights_and_card(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    args = ["train", "--images", "24", "--imgsz", "64", "--epochs", "1", "--batch", "4", "--workers", "0"]
    args += ["--dataset-dir", str(tmp_path / "ds"), "--out", str(runs), "--name", "t"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ds" / "synth-24" / "data.yaml").exists()
    assert (runs / "t" / "weights" / "best.pt").exists()
    card = (runs / "t" / "model-card-draft.md").read_text()
    assert "epochs done: 1" in card and "--imgsz 64" in card


def test_short_runs_close_mosaic_for_their_last_third_only() -> None:
    from vision.train import _augmentation

    assert _augmentation("frames", 60)["close_mosaic"] == 3  # the preset, for a long run
    assert _augmentation("frames", 3)["close_mosaic"] == 1  # not mosaic-free from the first step
    assert _augmentation("frames", 1)["close_mosaic"] == 0
    assert _augmentation("crops", 3)["mosaic"] == 0.0  # crops never use mosaic


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--resume", "--out", str(tmp_path), "--name", "none"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_train_crop_stage_renders_crops_and_fine_tunes(tmp_path: Path) -> None:
    """``--stage crops``: person crops rendered (train/val, and the held-out test split cropped)."""
    render_test_split(tmp_path / "ds" / "kitchen-test", images=40, val_fraction=0.1, test_fraction=0.2)
    runs = tmp_path / "runs"
    args = [
        "train",
        "--stage",
        "crops",
        "--scenes",
        "4",
        "--model",
        str(ROOT / "models" / "kitchen-yolo11n.pt"),
    ]
    args += ["--imgsz", "64", "--epochs", "1", "--batch", "4", "--workers", "0", "--lr0", "0.0005"]
    args += ["--dataset-dir", str(tmp_path / "ds"), "--out", str(runs), "--name", "c"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    crops = tmp_path / "ds" / "crops-4"
    for split in ("train", "val", "test"):
        assert list((crops / "images" / split).glob("*.jpg")), split
    assert (runs / "c" / "weights" / "best.pt").exists()
    assert "--stage crops" in (runs / "c" / "model-card-draft.md").read_text()


def test_crop_dataset_converts_a_full_frame_dataset(tmp_path: Path) -> None:
    render_test_split(tmp_path / "ds", images=40, val_fraction=0.1, test_fraction=0.2)
    yml = tmp_path / "ds" / "mine.yaml"  # only the rendered split, the way a user's yaml may be
    yml.write_text(f"path: {tmp_path / 'ds'}\ntest: images/test\nnames: {{0: person, 1: head_hat}}\n")
    result = CliRunner().invoke(app, ["crop-dataset", str(yml), "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "test: " in result.output and "train" not in result.output
    crops = list((tmp_path / "c" / "images" / "test").glob("*.jpg"))
    assert crops and len(crops) == len(list((tmp_path / "c" / "labels" / "test").glob("*.txt")))
    missing = CliRunner().invoke(
        app, ["crop-dataset", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "x")]
    )
    assert missing.exit_code == 2 and "not found" in missing.output


def test_eval_model_scores_the_two_stage_profile(tmp_path: Path) -> None:
    """The shipped two-stage profile: validator numbers of stage one, then the whole detector's."""
    yml = render_test_split(tmp_path / "ds", images=60, val_fraction=0.1, test_fraction=0.2)
    out = tmp_path / "m.json"
    profile = ROOT / "models" / "kitchen-yolo11n-2stage.yaml"
    args = ["eval-model", "--profile", str(profile), "--data", str(yml), "--no-fp", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "two-stage (kitchen-yolo11n-crops.yaml on each person for cigarette, phone)" in result.output
    report = json.loads(out.read_text())
    assert report["two_stage"]["per_class"]["person"] > 0.9  # stage one's persons pass through
    assert abs(report["two_stage"]["map50"] - report["map50"]) < 0.1
