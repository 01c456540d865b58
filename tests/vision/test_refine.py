"""Two-stage detection: person crops (geometry, datasets) and the refined detector on real models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv
import yaml

from vision.crops import MARGIN_X, MARGIN_Y, crop_split, labels_in_crop, person_crop_box, read_yolo_labels
from vision.kinds import CLASS_ID, CLASS_NAMES
from vision.model_eval import detector_map
from vision.profile import InputSize, ProfileError, read_profile
from vision.refine import RefinedDetector, load_detector
from vision.synth.dataset import write_crop_dataset, write_dataset
from vision.synth.generate import build_scenario, random_spec
from vision.synth.render import Renderer
from vision.yolo import YoloDetector

MODELS = Path(__file__).resolve().parents[2] / "models"
PROFILE = MODELS / "kitchen-yolo11n.yaml"
CIG = CLASS_ID["cigarette"]


def test_crop_box_adds_margins_and_clips_to_the_frame() -> None:
    b = person_crop_box((100, 50, 150, 250), (640, 360))
    assert b is not None
    assert (b.x1, b.x2) == (100 - int(50 * MARGIN_X), 150 + int(np.ceil(50 * MARGIN_X)))
    assert b.y1 == int(np.floor(50 - 200 * MARGIN_Y)) and b.y2 == int(np.ceil(250 + 200 * MARGIN_Y))
    edge = person_crop_box((0, 0, 40, 350), (640, 360))
    assert edge is not None and (edge.x1, edge.y1, edge.y2) == (0, 0, 360)
    assert person_crop_box((10, 10, 14, 15), (640, 360)) is None  # too small to carry attributes
    assert person_crop_box((10, 10, 10, 50), (640, 360)) is None  # empty box


def test_labels_in_crop_keep_mostly_inside_boxes_in_crop_pixels() -> None:
    box = person_crop_box((100, 100, 200, 300), (640, 360))
    assert box is not None
    rows = np.array(
        [
            [CIG, 150, 150, 170, 160],  # inside
            [CIG, box.x2 - 5, 150, box.x2 + 15, 160],  # 25 % inside: dropped
            [0, 100, 100, 200, 300],  # the person itself
        ],
        np.float32,
    )
    out = labels_in_crop(rows, box)
    assert out[:, 0].tolist() == [CIG, 0]
    np.testing.assert_allclose(out[0, 1:], [150 - box.x1, 150 - box.y1, 170 - box.x1, 160 - box.y1])


def test_crop_split_turns_each_labelled_person_into_one_crop(tmp_path: Path) -> None:
    yml = write_dataset(tmp_path / "full", 8, val_fraction=0, test_fraction=0.5, workers=1, splits=("test",))
    root = yml.parent
    persons = sum(
        int((read_yolo_labels(p, (640, 360))[:, 0] == 0).sum()) for p in (root / "labels/test").glob("*.txt")
    )
    n = crop_split(root / "images/test", root / "labels/test", tmp_path / "c/images", tmp_path / "c/labels")
    assert 0 < n <= persons
    crops = sorted((tmp_path / "c/images").glob("*.jpg"))
    assert len(crops) == n == len(list((tmp_path / "c/labels").glob("*.txt")))
    # every crop holds at least its own person, labelled in crop coordinates
    for label in (tmp_path / "c/labels").glob("*.txt"):
        rows = np.loadtxt(label, ndmin=2)
        assert (rows[:, 0] == 0).any() and (rows[:, 1:] >= 0).all() and (rows[:, 1:] <= 1).all()


def test_synthetic_crop_dataset_is_rich_in_held_objects(tmp_path: Path) -> None:
    yml = write_crop_dataset(tmp_path, 6, val_fraction=0.2, workers=1)
    doc = yaml.safe_load(yml.read_text())
    assert doc["names"][CIG] == "cigarette"
    labels = list((tmp_path / "labels/train").glob("*.txt"))
    assert labels and len(labels) == len(list((tmp_path / "images/train").glob("*.jpg")))
    classes = np.concatenate([np.loadtxt(p, ndmin=2)[:, 0] for p in labels if p.stat().st_size])
    held = np.isin(classes, [CIG, CLASS_ID["phone"]]).sum()
    assert held >= 0.5 * len(labels)  # most crops show a cigarette or a phone


def test_profile_refine_section_is_validated(tmp_path: Path) -> None:
    doc = yaml.safe_load(PROFILE.read_text())
    doc["weights"] = {k: str(MODELS / v) for k, v in doc["weights"].items()}
    doc["refine"] = {"profile": "crops.yaml", "classes": ["cigarette", "lighter"]}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ProfileError, match="refine names classes that are not in class_names: .'lighter'"):
        read_profile(bad)
    doc["refine"] = {"profile": "crops.yaml", "classes": ["cigarette"], "every": 0}
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ProfileError, match="every"):
        read_profile(bad)


class _Fixed:
    """A detector that returns given boxes, to test the merge without a model's noise."""

    class_names = tuple(CLASS_NAMES)
    model_version = "fixed@1"

    def __init__(self, rows: Sequence[tuple[str, float, float, float, float, float]]) -> None:
        self.rows = rows
        self.calls: list[list[tuple[int, int]]] = []

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        self.calls.append([img.shape[:2] for img in images])
        out = []
        for _ in images:
            if not self.rows:
                out.append(sv.Detections.empty())
                continue
            names = np.array([r[0] for r in self.rows])
            out.append(
                sv.Detections(
                    xyxy=np.array([r[1:5] for r in self.rows], np.float32),
                    confidence=np.array([r[5] for r in self.rows], np.float32),
                    class_id=np.array([CLASS_ID[n] for n in names]),
                    data={"class_name": names},
                )
            )
        return out


def test_crop_boxes_are_mapped_back_and_merged_with_the_frame_boxes() -> None:
    base = _Fixed(
        [
            ("person", 100, 50, 150, 250, 0.9),
            ("person", 300, 50, 350, 250, 0.2),  # too unsure to crop
            ("head_hat", 110, 50, 140, 80, 0.8),
            ("cigarette", 140, 100, 156, 108, 0.3),
        ]
    )
    crop = _Fixed([("cigarette", 40, 48, 58, 56, 0.7), ("head_bare", 10, 5, 40, 30, 0.9)])
    det = RefinedDetector(base, crop, ["cigarette"], min_subject_confidence=0.4)
    img = np.zeros((360, 640, 3), np.uint8)
    (d,) = det.detect([img])
    box = person_crop_box((100, 50, 150, 250), (640, 360))
    assert box is not None and crop.calls == [[(box.h, box.w)]]  # one crop, the confident person
    names = d.data["class_name"].tolist()
    assert sorted(names) == ["cigarette", "cigarette", "head_hat", "person", "person"]  # crop's head ignored
    cigs = d.xyxy[d.data["class_name"] == "cigarette"]
    np.testing.assert_allclose(cigs[0], [40 + box.x1, 48 + box.y1, 58 + box.x1, 56 + box.y1])  # 0.7 first
    assert (d.class_id == [CLASS_ID[n] for n in names]).all()
    only_crops = RefinedDetector(base, crop, ["cigarette"], keep_base=False).detect([img])[0]
    assert (only_crops.data["class_name"] == "cigarette").sum() == 1


def test_a_crop_with_nothing_found_leaves_the_frame_boxes() -> None:
    base = _Fixed([("person", 100, 50, 150, 250, 0.9), ("cigarette", 140, 100, 156, 108, 0.5)])
    d = RefinedDetector(base, _Fixed([]), ["cigarette"]).detect([np.zeros((360, 640, 3), np.uint8)])[0]
    assert sorted(d.data["class_name"].tolist()) == ["cigarette", "person"]


def test_every_nth_detection_of_each_camera_is_cropped_and_still_images_always() -> None:
    base = _Fixed([("person", 100, 50, 150, 250, 0.9)])
    crop = _Fixed([("cigarette", 40, 48, 58, 56, 0.7)])
    det = RefinedDetector(base, crop, ["cigarette"], every=2)
    img = np.zeros((360, 640, 3), np.uint8)
    cams = ["a", "b", "a", "a", "b", "a"]  # a: 1st, 3rd cropped; b: 1st cropped (per camera, not per call)
    got = [det.detect_cameras([img], [c])[0] for c in cams]
    has_cig = [bool((d.data["class_name"] == "cigarette").any()) for d in got]
    assert has_cig == [True, True, False, True, False, False]
    assert len(crop.calls) == 3
    one_call = det.detect_cameras([img, img], ["c", "c"])  # two frames of one camera in one batch
    assert [bool((d.data["class_name"] == "cigarette").any()) for d in one_call] == [True, False]
    assert all((d.data["class_name"] == "cigarette").any() for d in det.detect([img, img, img]))
    with pytest.raises(ValueError, match="every must be >= 1"):
        RefinedDetector(base, crop, ["cigarette"], every=0)


def test_no_person_no_second_stage() -> None:
    base = _Fixed([("rat", 10, 10, 30, 20, 0.9)])
    crop = _Fixed([("cigarette", 1, 1, 5, 3, 0.9)])
    d = RefinedDetector(base, crop, ["cigarette", "phone"]).detect([np.zeros((360, 640, 3), np.uint8)])[0]
    assert crop.calls == [] and d.data["class_name"].tolist() == ["rat"]


def test_refined_detector_with_real_models_keeps_the_first_stage_and_finds_people() -> None:
    """The shipped model as both stages (crop input 224x128): real crops through real inference."""
    base, _ = load_detector(PROFILE, threads=2)
    assert isinstance(base, YoloDetector)
    crop_profile = base.profile.model_copy(update={"input_size": InputSize(height=224, width=128)})
    det = RefinedDetector(base, YoloDetector(crop_profile, threads=2), ["cigarette", "phone"])
    img, gt = Renderer(build_scenario(random_spec(900_003, dense=True))).render(8.0, 120)
    first = base.detect([img])[0]
    d = det.detect([img])[0]
    people = int((first.data["class_name"] == "person").sum())
    assert people >= 1 and det.crops_run >= 1
    for cls in ("person", "head_hat", "head_bare", "uniform"):
        assert (d.data["class_name"] == cls).sum() == (first.data["class_name"] == cls).sum()
    assert det.model_version == f"{base.model_version}+{base.model_version}"


def test_detector_map_scores_perfect_and_shifted_boxes(tmp_path: Path) -> None:
    yml = write_dataset(tmp_path, 8, val_fraction=0.0, test_fraction=0.5, workers=1, splits=("test",))
    images = yml.parent / "images/test"

    class _Truth:
        class_names = tuple(CLASS_NAMES)
        model_version = "truth@1"

        def __init__(self, shift: float) -> None:
            self.shift = shift
            self.files = sorted(images.glob("*.jpg"))
            self.i = 0

        def detect(self, imgs: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
            out = []
            for img in imgs:
                h, w = img.shape[:2]
                rows = read_yolo_labels(yml.parent / "labels/test" / f"{self.files[self.i].stem}.txt", (w, h))
                self.i += 1
                xyxy = rows[:, 1:].copy()
                xyxy[:, [0, 2]] += self.shift * (xyxy[:, 2:3] - xyxy[:, 0:1])
                names = np.array([CLASS_NAMES[int(c)] for c in rows[:, 0]])
                out.append(
                    sv.Detections(
                        xyxy=xyxy.astype(np.float32),
                        confidence=np.full(len(rows), 0.9, np.float32),
                        class_id=rows[:, 0].astype(int),
                        data={"class_name": names},
                    )
                )
            return out

    perfect = detector_map(_Truth(0.0), images)
    assert perfect.map50 > 0.99 and perfect.map50_95 > 0.99 and perfect.images == 4
    shifted = detector_map(_Truth(0.6), images)  # IoU 0.25 with its truth: no match at 0.5
    assert shifted.map50 < 0.01


def test_the_int8_two_stage_profile_is_the_shipped_one_with_int8_full_frame_weights() -> None:
    # kitchen-yolo11n-2stage-int8.yaml must not drift from the profile it copies: same classes,
    # thresholds and crop stage; only the full-frame OpenVINO weights differ (and they load)
    models = Path(__file__).resolve().parents[2] / "models"
    fp32 = read_profile(models / "kitchen-yolo11n-2stage.yaml")
    int8 = read_profile(models / "kitchen-yolo11n-2stage-int8.yaml")
    same = (
        "class_names",
        "class_to_kind",
        "default_confidence",
        "confidence",
        "nms_iou",
        "input_size",
        "refine",
    )
    assert {k: getattr(int8, k) for k in same} == {k: getattr(fp32, k) for k in same}
    assert "int8" in str(int8.weights["openvino"]) and int8.weights["openvino"] != fp32.weights["openvino"]
    detector, _ = load_detector(models / "kitchen-yolo11n-2stage-int8.yaml", threads=1)
    assert isinstance(detector, RefinedDetector)
    (dets,) = detector.detect([np.zeros((360, 640, 3), dtype=np.uint8)])
    assert len(dets) == 0  # a black frame: nothing found, but the INT8 network really ran
