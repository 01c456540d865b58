"""The pipeline on the real sample clips, with the ground-truth oracle as detector.

With perfect boxes every miss is the pipeline's own (gate, tracker, association, rules, timing),
so the events must match the ground truth: every kind found, nothing reported twice, starts
within a frame or two, every clip playable.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.vision.conftest import assert_browser_clip
from vision.decode import read_frames
from vision.evaluate import PredEvent, clip_rules, evaluate_clip, truth_events
from vision.motion import MotionGate
from vision.pipeline import CameraSetup, FileResult, run_file
from vision.sinks import JsonlSink, read_events
from vision.synth.oracle import GroundTruthDetector

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
# night pests + an intruder after hours; many kinds at once with repeats; people overlapping
CLIPS = ["storage_night", "hot_kitchen_mixed", "canteen_no_mask"]


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return doc


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[FileResult, Path]]:
    out = tmp_path_factory.mktemp("oracle")
    done = {}
    for name in CLIPS:
        video, doc = SAMPLES / f"{name}.mp4", load(name)
        setup = CameraSetup(
            camera_id=doc["camera"]["camera_id"],
            media_dir=out / name,
            rules=clip_rules(doc),
            recorded_at=datetime.fromisoformat(doc["camera"]["recorded_at"]),
            fps=float(doc["video"]["fps"]),
        )
        done[name] = (run_file(video, GroundTruthDetector(video), JsonlSink(out / name), setup), out / name)
    return done


@pytest.mark.parametrize("name", CLIPS)
def test_oracle_events_match_ground_truth(runs: dict[str, tuple[FileResult, Path]], name: str) -> None:
    result, _ = runs[name]
    doc = load(name)
    clip = evaluate_clip(name, doc, [PredEvent.from_event(e) for e in result.events])
    for kind, c in clip.per_kind.items():
        assert c.duplicates == 0, kind
        assert c.fn == 0 and c.fp == 0, (kind, c)
    expected = [t for t in truth_events(doc) if not t.ignored]
    assert sum(c.tp for c in clip.per_kind.values()) == len(expected) > 0
    # the start of each incident, within one detection at the calm rate (2.5 a second, while
    # nothing is suspected yet) and one at the full rate (5 a second: 0.6 s)
    setup = CameraSetup("cam", SAMPLES)
    assert setup.calm_detect_fps is not None and setup.max_detect_fps is not None
    calm_s = 1 / setup.calm_detect_fps + 1 / setup.max_detect_fps
    for truth in expected:
        starts = [e.started_s for e in result.events if e.kind == truth.kind]
        assert min(abs(s - truth.start_s) for s in starts) <= calm_s + 1e-6


@pytest.mark.parametrize("name", CLIPS)
def test_sample_clips_and_snapshots_are_complete(runs: dict[str, tuple[FileResult, Path]], name: str) -> None:
    result, folder = runs[name]
    records = read_events(folder / "events.jsonl")
    assert len(records) == len(result.events)
    for clip in {r["clip"] for r in records}:
        assert_browser_clip(Path(clip), min_frames=15)
    assert all(Path(r["snapshot"]).stat().st_size > 5000 for r in records)
    recorded_at = datetime.fromisoformat(load(name)["camera"]["recorded_at"])
    for r in records:  # wall time of the start: the clip's recording time plus start_s
        wall = datetime.fromisoformat(r["start_wall"])
        assert abs((wall - recorded_at).total_seconds() - r["start_s"]) < 0.01


@pytest.mark.parametrize("name", ["storage_night", "wash_area_bin_roaches"])
def test_motion_gate_sees_every_pest_at_once(name: str) -> None:
    """Without any help from tracks or rechecks, motion alone flags each rat and cockroach
    within one frame of its appearance, and on nine moving frames in ten."""
    doc = load(name)
    gate = MotionGate(zones=clip_rules(doc).zones, recheck_s=1e9)
    first: dict[int, float] = {}
    seen: dict[int, float] = {}
    moving = covered = 0
    last: dict[int, list[float]] = {}
    for frame in read_frames(SAMPLES / f"{name}.mp4", camera_id="c"):
        boxes = gate.check(frame, tracking=False).boxes
        for o in doc["frames"][frame.index]["objects"]:
            if o["class"] not in ("rat", "cockroach"):
                continue
            tid, box = o["track_id"], o["xyxy"]
            hit = any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in boxes)
            first.setdefault(tid, frame.ts_s)
            if hit:
                seen.setdefault(tid, frame.ts_s)
            if tid in last and max(abs(a - b) for a, b in zip(last[tid], box, strict=True)) >= 1.0:
                moving += 1
                covered += hit
            last[tid] = box
    assert first and set(seen) == set(first)
    assert all(seen[t] - first[t] <= 1 / doc["video"]["fps"] + 1e-6 for t in first)
    assert covered >= 0.9 * moving
