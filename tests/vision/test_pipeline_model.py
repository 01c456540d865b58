"""The shipped model end to end: real inference on real sample clips, events vs ground truth.

Uses the profile's default (fastest CPU) backend. Every incident of the clip must be found as
one event on the right subject, starting within a second of the truth, and every clip written
must be a browser-playable MP4.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.vision.conftest import assert_browser_clip
from vision.evaluate import ClipEval, PredEvent, clip_rules, evaluate_clip, truth_events
from vision.pipeline import CameraSetup, FileResult, run_file
from vision.profile import read_profile
from vision.refine import load_detector
from vision.sinks import JsonlSink, read_events
from vision.yolo import YoloDetector, load_profile

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_videos"
PROFILE = REPO / "models" / "kitchen-yolo11n.yaml"
CLIPS = ["hot_kitchen_mixed", "wash_area_bin_roaches"]


@pytest.fixture(scope="module")
def detector() -> YoloDetector:
    model, _ = load_profile(PROFILE, threads=2)
    return model


@pytest.fixture(scope="module")
def runs(
    detector: YoloDetector, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[FileResult, Path]]:
    out = tmp_path_factory.mktemp("model")
    done = {}
    for name in CLIPS:
        video = SAMPLES / f"{name}.mp4"
        doc = load(name)
        setup = CameraSetup(
            camera_id=name,
            media_dir=out / name,
            rules=clip_rules(doc),
            recorded_at=datetime.fromisoformat(doc["camera"]["recorded_at"]),
            fps=float(doc["video"]["fps"]),
        )
        done[name] = (run_file(video, detector, JsonlSink(out / name), setup), out / name)
    return done


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return doc


@pytest.mark.slow
@pytest.mark.parametrize("name", CLIPS)
def test_model_finds_every_incident_once(runs: dict[str, tuple[FileResult, Path]], name: str) -> None:
    result, _ = runs[name]
    doc = load(name)
    clip = evaluate_clip(name, doc, [PredEvent.from_event(e) for e in result.events])
    expected = [t for t in truth_events(doc) if not t.ignored]
    assert sum(c.tp for c in clip.per_kind.values()) == len(expected) > 0
    assert sum(c.duplicates for c in clip.per_kind.values()) == 0
    assert sum(c.fp for c in clip.per_kind.values()) <= 1
    for truth in expected:  # each incident starts within a second of the truth
        starts = [e.started_s for e in result.events if e.kind == truth.kind]
        assert min(abs(s - truth.start_s) for s in starts) <= 1.0, truth
    assert {e.model_version for e in result.events} == {read_profile(PROFILE).model_version}


@pytest.mark.slow
@pytest.mark.parametrize("name", CLIPS)
def test_model_clips_play_in_browsers(runs: dict[str, tuple[FileResult, Path]], name: str) -> None:
    _, folder = runs[name]
    records = read_events(folder / "events.jsonl")
    assert records
    for clip in {r["clip"] for r in records}:
        assert_browser_clip(Path(clip), min_frames=15)


def _heldout_clip(tmp_path: Path, seed_index: int) -> ClipEval:
    """Render held-out clip ``seed_index`` (seed 900,000 + it), run the shipped two-stage profile
    on it and score its events against its ground truth."""
    from vision.synth.samples import build_heldout

    (video,) = build_heldout(tmp_path / "clip", clips=1, duration_s=20.0, first=seed_index)
    doc = json.loads(video.with_suffix(".json").read_text())
    detector, _ = load_detector(  # the two-stage detector, as `eval` and the demo use it
        REPO / "models" / "kitchen-yolo11n-2stage.yaml", threads=2
    )
    setup = CameraSetup(
        camera_id=f"heldout-{seed_index}",
        media_dir=tmp_path / "out",
        rules=clip_rules(doc),
        recorded_at=datetime.fromisoformat(doc["camera"]["recorded_at"]),
        fps=float(doc["video"]["fps"]),
    )
    result = run_file(video, detector, JsonlSink(tmp_path / "out"), setup)
    return evaluate_clip(video.stem, doc, [PredEvent.from_event(e) for e in result.events])


@pytest.mark.slow
def test_a_subject_whose_track_id_went_to_a_colleague_raises_one_event(tmp_path: Path) -> None:
    # Fresh held-out clip 210 (seed 900,210), wash area, the shipped two-stage profile: the
    # bare-headed cook stands half hidden behind a colleague from 6 s; the tracker moves the
    # cook's id onto another person and gives the cook a new one at 10.4 s. The old id is still
    # in view, on someone who does not look like the cook (vision.appearance): one no_hat event
    # for one incident (there were two).
    no_hat = _heldout_clip(tmp_path, 210).per_kind["no_hat"]
    assert (no_hat.truths, no_hat.tp, no_hat.fp, no_hat.duplicates) == (1, 1, 0, 0)


@pytest.mark.slow
def test_a_bare_head_seen_from_behind_raises_its_event_in_time_and_a_dark_cap_none(tmp_path: Path) -> None:
    # Held-out clip 285 (hot kitchen), two bare heads: one cook works with their back to the
    # camera for 8 s, read bare at 0.92-0.94 on every frame; both events open within
    # min_duration + 1 s of the truth (it waited for the face: +8.2 s). Held-out clip 9: a dark
    # cap from behind, read bare on and off, stays no event (vision.rules.NEEDS_FACE).
    no_hat = _heldout_clip(tmp_path / "285", 285).per_kind["no_hat"]
    assert (no_hat.truths, no_hat.tp, no_hat.fp, no_hat.duplicates) == (2, 2, 0, 0)
    assert max(no_hat.delays) <= 3.0
    dark_cap = _heldout_clip(tmp_path / "9", 9).per_kind.get("no_hat")
    assert dark_cap is None or dark_cap.fp == 0
