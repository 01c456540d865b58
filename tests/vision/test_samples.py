"""The shipped sample set: playable H.264 clips, valid ground truth, every kind covered."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from vision.kinds import VISUAL_KINDS
from vision.synth.groundtruth import load_ground_truth, validate_ground_truth
from vision.synth.samples import SAMPLE_DIR, SAMPLES, check_sample

CLIPS = sorted(SAMPLE_DIR.glob("*.mp4"))


def moov_before_mdat(path: Path) -> bool:
    """Walk the top-level MP4 boxes: faststart means the index (moov) precedes the media (mdat)."""
    order = []
    with path.open("rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            size = int.from_bytes(head[:4], "big")
            kind = head[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(f.read(8), "big") - 8
            order.append(kind)
            if size < 8:
                break
            f.seek(size - 8, 1)
    return "moov" in order and "mdat" in order and order.index("moov") < order.index("mdat")


def test_catalog_is_on_disk() -> None:
    assert {p.stem for p in CLIPS} == {s.name for s in SAMPLES}
    assert len(CLIPS) >= 12


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem)
def test_clip_is_browser_playable_h264(clip: Path) -> None:
    r = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,pix_fmt,width,height,avg_frame_rate:format=duration",
            "-of",
            "json",
            str(clip),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(r.stdout)
    s = info["streams"][0]
    assert s["codec_name"] == "h264" and s["pix_fmt"] == "yuv420p"
    assert (s["width"], s["height"]) in ((640, 360), (1280, 720))
    num, den = (int(v) for v in s["avg_frame_rate"].split("/"))
    assert 10 <= num / den <= 25
    assert 10.0 <= float(info["format"]["duration"]) <= 30.5
    assert moov_before_mdat(clip)


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem)
def test_ground_truth_valid_and_consistent(clip: Path) -> None:
    doc = load_ground_truth(clip.with_suffix(".json"))
    validate_ground_truth(doc)
    assert doc["video"]["file"] == clip.name
    assert len(doc["frames"]) == doc["video"]["frames"]
    tracks = {t["track_id"] for t in doc["tracks"]}
    for e in doc["events"]:
        assert e["track_id"] in tracks and 0 <= e["start_s"] <= e["end_s"] <= doc["video"]["duration_s"]
    sample = next(s for s in SAMPLES if s.name == clip.stem)
    assert check_sample(sample, doc) == []


def test_set_covers_every_kind_twice_clean_clips_and_night() -> None:
    kinds: Counter[str] = Counter()
    clean = night = 0
    for clip in CLIPS:
        doc = load_ground_truth(clip.with_suffix(".json"))
        kinds.update({e["kind"] for e in doc["events"]})  # clips containing the kind
        clean += not doc["events"]
        night += doc["scene"]["night"]
    assert {k.value: kinds[k.value] >= 2 for k in VISUAL_KINDS} == {k.value: True for k in VISUAL_KINDS}
    assert clean >= 3 and night >= 1
    assert sum(p.stat().st_size for p in SAMPLE_DIR.iterdir()) <= 40 * 1024 * 1024


def test_check_sample_flags_missing_and_unexpected_events() -> None:
    s = SAMPLES[0]
    assert check_sample(s, {"events": []}) == [f"{s.name}: expected a no_hat event, ground truth has none"]
    clean = next(x for x in SAMPLES if not x.expect)
    assert "clean clip must have no events" in check_sample(clean, {"events": [{"kind": "rodent"}]})[0]
