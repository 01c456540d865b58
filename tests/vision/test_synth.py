"""The synthetic world: determinism, exact boxes, the event rules, dataset splits, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vision.kinds import ObjectClass, ViolationKind
from vision.rule_config import CameraRules
from vision.synth.canvas import Canvas, visible_boxes
from vision.synth.dataset import SPLIT_SEED_BASE, write_dataset
from vision.synth.generate import ScenarioSpec, build_scenario, random_spec
from vision.synth.groundtruth import derive_events, validate_ground_truth
from vision.synth.render import Renderer
from vision.synth.scene import SCENE_KINDS, build_scene

NH, NM = ViolationKind.NO_HAT, ViolationKind.NO_MASK


def test_visible_boxes_respect_occlusion() -> None:
    cv = Canvas(np.zeros((50, 80, 3), np.uint8))
    cv.rect(10, 10, 40, 30, (255, 255, 255), oid=7)
    cv.rect(30, 5, 60, 40, (0, 0, 255), oid=9)  # drawn later: hides the right part of 7
    boxes = visible_boxes(cv.ids)
    assert set(boxes) == {7, 9}
    x1, y1, x2, y2, n = boxes[7]
    assert (x1, y1, y2) == (10, 10, 31) and 29 <= x2 <= 31
    assert boxes[9][:4] == (30, 5, 61, 41)


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_every_scene_kind_builds_with_zones_and_places_for_pests(kind: str) -> None:
    scene = build_scene(kind, seed=5)
    assert scene.background.shape == (360, 640, 3)
    assert any(z.restricted for z in scene.zones)
    assert scene.surfaces and scene.rat_lanes and scene.bin_spots
    assert scene.person_height(scene.height) > scene.person_height(scene.wall_y + 10)


def test_unknown_scene_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown scene kind 'garage'"):
        build_scene("garage", 1)


def test_same_seed_same_frame_and_labels_different_seed_differs() -> None:
    a = Renderer(build_scenario(random_spec(3))).render(4.0, 60)
    b = Renderer(build_scenario(random_spec(3))).render(4.0, 60)
    c = Renderer(build_scenario(random_spec(4))).render(4.0, 60)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


def test_people_carry_attribute_boxes_inside_their_body_box() -> None:
    spec = ScenarioSpec(scene="canteen", seed=40, staff=4, no_hat=2)
    img, objs = Renderer(build_scenario(spec)).render(5.0, 75)
    persons = {o.track_id: o.xyxy for o in objs if o.cls is ObjectClass.PERSON}
    assert persons
    heads = [o for o in objs if o.cls in (ObjectClass.HEAD_HAT, ObjectClass.HEAD_BARE)]
    assert heads
    for h in heads:
        px1, py1, px2, py2 = persons[h.track_id]
        assert px1 <= h.xyxy[0] and h.xyxy[2] <= px2 and py1 <= h.xyxy[1] and h.xyxy[3] <= py2
    bare = {o.track_id for o in objs if o.cls is ObjectClass.HEAD_BARE}
    hatless = {p.track_id for p in build_scenario(spec).persons if p.look.hat is None}
    assert bare <= hatless


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        # 10 fps; no_hat needs 2.0 s and merges gaps ≤ 2.0 s
        ([{(NH, 1)}] * 25, [(NH, 1, 0.0, 2.4)]),
        ([{(NH, 1)}] * 15, []),  # 1.5 s: too short
        ([{(NH, 1)}] * 12 + [set()] * 15 + [{(NH, 1)}] * 12, [(NH, 1, 0.0, 3.8)]),  # 1.6 s gap merges
        ([{(NH, 1)}] * 25 + [set()] * 30 + [{(NH, 1)}] * 25, [(NH, 1, 0.0, 2.4), (NH, 1, 5.5, 7.9)]),
        ([{(NH, 1), (NM, 2)}] * 30, [(NH, 1, 0.0, 2.9), (NM, 2, 0.0, 2.9)]),
    ],
)
def test_derive_events_applies_min_duration_and_grace(frames: list[set], expected: list[tuple]) -> None:
    got = [
        (e.kind, e.track_id, round(e.start_s, 2), round(e.end_s, 2))
        for e in derive_events(frames, 10.0, CameraRules())
    ]
    assert got == expected


def test_dataset_splits_by_scene_seed_and_labels_are_yolo(tmp_path: Path) -> None:
    yml = write_dataset(tmp_path / "ds", 48, workers=1)
    data = yml.read_text()
    assert "names:" in data and "test: images/test" in data
    seeds = {}
    for split in ("train", "val", "test"):
        files = sorted((tmp_path / "ds" / "labels" / split).glob("*.txt"))
        assert files, split
        seeds[split] = {int(f.stem.split("_")[0]) for f in files}
        assert all(SPLIT_SEED_BASE[split] <= s < SPLIT_SEED_BASE[split] + 100_000 for s in seeds[split])
        for f in files:
            for line in f.read_text().splitlines():
                c, *xywh = line.split()
                assert 0 <= int(c) < len(ObjectClass)
                assert all(0.0 <= float(v) <= 1.0001 for v in xywh)
    assert not (seeds["train"] & seeds["val"]) and not (seeds["train"] & seeds["test"])


def test_cli_video_same_seed_gives_byte_identical_ground_truth(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "api.cli",
        "synth",
        "video",
        "--scene",
        "storage",
        "--seed",
        "7",
        "--duration",
        "3",
    ]
    for name in ("a", "b"):
        r = subprocess.run(
            [*cmd, "--out", str(tmp_path / f"{name}.mp4")], capture_output=True, text=True, timeout=300
        )
        assert r.returncode == 0, r.stderr
    a, b = (tmp_path / "a.json").read_bytes(), (tmp_path / "b.json").read_bytes()
    doc = json.loads(a)
    assert a.replace(b'"a.mp4"', b'"X"').replace(b"sample-a", b"Y") == b.replace(b'"b.mp4"', b'"X"').replace(
        b"sample-b", b"Y"
    )
    validate_ground_truth(doc)
    assert doc["video"]["frames"] == 45


def test_cli_rejects_unknown_scene(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "synth",
            "video",
            "--scene",
            "garage",
            "--out",
            str(tmp_path / "x.mp4"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0 and "unknown scene 'garage'" in r.stderr


def test_a_heldout_clip_is_the_same_whichever_slice_renders_it(tmp_path: Path) -> None:
    # `synth heldout --first 1 --clips 1` renders a fresh clip that is byte-for-byte clip 1 of
    # `--clips 2`: a later, larger held-out set extends the earlier one without re-rendering it
    from vision.synth.samples import build_heldout, build_tuning

    (one,) = build_heldout(tmp_path / "a", clips=1, duration_s=5.0, first=1)
    both = build_heldout(tmp_path / "b", clips=2, duration_s=5.0)
    assert one.name == both[1].name == "heldout_001_hot_kitchen.mp4"
    assert one.with_suffix(".json").read_bytes() == both[1].with_suffix(".json").read_bytes()
    with pytest.raises(ValueError, match="forced"):
        build_tuning(tmp_path / "t", clips=30, forced=0, first=80)
