"""The shipped detector: real weights, real inference on rendered frames, profile checks.

Frames come from held-out scene seeds (900_000+, never used for training) so a pass means the
model generalises to new kitchens, people and cameras of the synthetic world.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import yaml

from tests.vision.conftest import Scene, assert_finds_people_and_large_objects, matched
from vision.detector import Detector
from vision.model_eval import _iou
from vision.profile import Backend, ProfileError, read_profile
from vision.yolo import YoloDetector, load_profile

PROFILE = Path(__file__).resolve().parents[2] / "models" / "kitchen-yolo11n.yaml"


def test_832_profile_reuses_the_weights_at_a_larger_input(scenes: list[Scene]) -> None:
    """Same files, other input size (dynamic exports): still finds every person."""
    det, profile = load_profile(PROFILE.with_name("kitchen-yolo11n-832.yaml"), threads=2)
    assert profile.weights == read_profile(PROFILE).weights
    assert det.hw == (480, 832)
    img, gt = scenes[0]
    d = det.detect([img])[0]
    people = sum(o.cls.value == "person" for o in gt)
    assert matched(gt, d.xyxy, d.data["class_name"], "person") == people


@pytest.fixture(scope="module")
def detector() -> YoloDetector:
    det, _ = load_profile(PROFILE, threads=2)
    return det


def test_shipped_profile_finds_people_and_large_objects(detector: YoloDetector, scenes: list[Scene]) -> None:
    assert isinstance(detector, Detector)
    results = detector.detect([img for img, _ in scenes])
    assert len(results) == len(scenes)
    assert_finds_people_and_large_objects(scenes, results)


def test_batch_of_cameras_with_different_sizes(detector: YoloDetector, scenes: list[Scene]) -> None:
    """Each frame's boxes come back in its own pixel coordinates, whatever its size."""
    import cv2

    img, gt = scenes[0]
    small = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    full, half = detector.detect([img, small])
    assert detector.detect([]) == []
    p_full = full.xyxy[full.data["class_name"] == "person"]
    p_half = half.xyxy[half.data["class_name"] == "person"]
    assert len(p_full) == sum(o.cls.value == "person" for o in gt)
    assert len(p_half) >= 1
    assert p_half[:, 2].max() <= small.shape[1] and p_half[:, 3].max() <= small.shape[0]
    assert (_iou(p_half * 2, p_full).max(axis=1) >= 0.6).all(), (
        "half-size boxes scale back onto full-size ones"
    )


@pytest.mark.parametrize(
    "bad",
    [np.zeros((360, 640), np.uint8), np.zeros((360, 640, 4), np.uint8), np.zeros((360, 640, 3), np.float32)],
)
def test_bad_frames_get_a_clear_error(detector: YoloDetector, bad: npt.NDArray[np.generic]) -> None:
    with pytest.raises(ValueError, match="expected a BGR uint8 image of shape HxWx3"):
        detector.detect([bad])  # type: ignore[list-item]


def test_per_class_thresholds_from_the_profile(scenes: list[Scene]) -> None:
    profile = read_profile(PROFILE)
    strict = profile.model_copy(update={"confidence": {**profile.confidence, "person": 0.999}})
    det = YoloDetector(strict, threads=2)
    d = det.detect([scenes[0][0]])[0]
    names = set(d.data["class_name"].tolist())
    assert "person" not in names
    assert "head_hat" in names


def _write_profile(tmp_path: Path, **changes: object) -> Path:
    doc = yaml.safe_load(PROFILE.read_text())
    weights_dir = PROFILE.parent
    doc["weights"] = {k: str(weights_dir / v) for k, v in doc["weights"].items()}
    doc.update(changes)
    p = tmp_path / "profile.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


@pytest.mark.parametrize("backend", ["pytorch", "onnx", "openvino"])
def test_profile_whose_classes_differ_from_the_model_is_refused(tmp_path: Path, backend: str) -> None:
    names = yaml.safe_load(PROFILE.read_text())["class_names"]
    swapped = [names[1], names[0], *names[2:]]  # head_hat <-> person: same set, wrong order
    path = _write_profile(tmp_path, class_names=swapped)
    with pytest.raises(ProfileError) as e:
        load_profile(path, backend=backend)
    msg = str(e.value)
    assert "does not match the classes of" in msg
    assert "class 0: profile says 'head_hat', model says 'person'" in msg


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (
            {"class_names": ["person", "rat"], "class_to_kind": {}, "confidence": {}},
            "the profile lists 2 classes, the model has 13",
        ),
        ({"class_to_kind": {"hat": "no_hat"}}, "class_to_kind names classes that are not in class_names"),
        ({"class_to_kind": {"head_bare": "no_hats"}}, "class_to_kind.head_bare"),
        ({"confidence": {"rat": 1.5}}, "confidence thresholds must be in (0, 1)"),
        ({"backend": "tensorrt"}, "backend"),
        ({"input_size": {"height": 360, "width": 640}}, "multiple of 32"),
        ({"weights": {"openvino": "missing_openvino_model"}}, "not found"),
        ({"threshold": 0.3}, "Extra inputs are not permitted"),
    ],
)
def test_bad_profiles_get_a_clear_error(tmp_path: Path, changes: dict[str, object], error: str) -> None:
    path = _write_profile(tmp_path, **changes)  # a relative weights path resolves beside the profile
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    assert error in str(e.value)


def test_static_export_of_another_size_is_refused(tmp_path: Path) -> None:
    """An OpenVINO model frozen at 640x384 cannot serve a profile that asks for 640x320."""
    import openvino as ov

    src = PROFILE.parent / "kitchen-yolo11n_openvino_model"
    model = ov.Core().read_model(str(src / "kitchen-yolo11n.xml"))
    model.reshape({model.inputs[0]: [1, 3, 384, 640]})
    dst = tmp_path / "static_openvino_model"
    dst.mkdir()
    ov.save_model(model, str(dst / "m.xml"))
    (dst / "metadata.yaml").write_text((src / "metadata.yaml").read_text())
    path = _write_profile(tmp_path, input_size={"height": 320, "width": 640}, weights={"openvino": str(dst)})
    with pytest.raises(ProfileError, match="was exported for input 640x384 but the profile says 640x320"):
        load_profile(path)


def test_unreadable_profile(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read model profile"):
        read_profile(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(ProfileError, match="not valid YAML"):
        read_profile(bad)


def test_class_to_kind_map() -> None:
    profile = read_profile(PROFILE)
    assert profile.kind_of("head_bare") == "no_hat"
    assert profile.kind_of("rat") == "rodent"
    assert profile.kind_of("head_hat") is None
    assert profile.weights_path(profile.backend).exists()


@pytest.mark.parametrize("backend", [Backend.ONNX, Backend.OPENVINO])
def test_exports_agree_with_pytorch(backend: Backend, scenes: list[Scene]) -> None:
    images = [img for img, _ in scenes]
    ref, _ = load_profile(PROFILE, backend=Backend.PYTORCH, threads=2)
    other, _ = load_profile(PROFILE, backend=backend, threads=2)
    for a, b in zip(ref.detect(images), other.detect(images), strict=True):
        confident = a.confidence > 0.5
        a_conf = a[confident]
        assert len(a_conf) > 0
        # every confident PyTorch box has a same-class twin from the export
        for cls in set(a_conf.data["class_name"].tolist()):
            pa = a_conf.xyxy[a_conf.data["class_name"] == cls]
            pb = b.xyxy[b.data["class_name"] == cls]
            assert len(pb) >= len(pa)
            assert (_iou(pa, pb).max(axis=1) > 0.95).all()
        assert abs(len(a) - len(b)) <= max(1, len(a) // 10)


def test_concurrent_callers_get_the_same_boxes(detector: YoloDetector, scenes: list[Scene]) -> None:
    """Camera workers on several threads share one detector."""
    from concurrent.futures import ThreadPoolExecutor

    images = [img for img, _ in scenes]
    expected = [d.xyxy for d in detector.detect(images)]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda i: detector.detect([images[i % len(images)]])[0].xyxy, range(8)))
    for i, xyxy in enumerate(got):
        np.testing.assert_allclose(xyxy, expected[i % len(images)], atol=0.5)


def test_any_batch_size_gives_each_frame_its_own_boxes(detector: YoloDetector, scenes: list[Scene]) -> None:
    """OpenVINO compiles once with a dynamic batch: 3 and 7 frames in one network call (max_batch
    8) or in chunks of 2 (the default) give each frame the boxes it gets alone."""
    images = [img for img, _ in scenes]
    alone = [detector.detect([img])[0] for img in images]
    wide, _ = load_profile(PROFILE, threads=2, max_batch=8)
    assert detector.max_batch == 2
    for det, n in ((wide, 3), (wide, 7), (detector, 7)):
        batch = [images[i % len(images)] for i in range(n)]
        for i, d in enumerate(det.detect(batch)):
            ref = alone[i % len(images)]
            assert d.data["class_name"].tolist() == ref.data["class_name"].tolist()
            np.testing.assert_allclose(d.xyxy, ref.xyxy, atol=0.5)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch must be >= 1, got 0"):
        YoloDetector(read_profile(PROFILE), max_batch=0)
