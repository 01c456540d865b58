"""``brightkitchen analyze`` / ``eval`` through the real CLI entry point (oracle detector)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.vision.conftest import assert_browser_clip

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
CLIP = SAMPLES / "wash_area_bin_roaches.mp4"


def test_analyze_writes_events_and_keeps_going_after_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    result = CliRunner().invoke(
        app, ["analyze", str(bad), str(CLIP), "--oracle", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert f"error: {bad}: not a readable video" in result.output
    lines = [json.loads(x) for x in (tmp_path / "out" / CLIP.stem / "events.jsonl").read_text().splitlines()]
    assert sorted(r["kind"] for r in lines) == ["cockroach", "cockroach", "open_bin"]
    assert "open_bin" in result.output and "violation events" in result.output
    for r in lines:
        assert_browser_clip(tmp_path / "out" / CLIP.stem / r["clip"])
        assert r["start_s"] < r["open_s"] <= r["end_s"] + 1e-6  # raised after its backdated start


def test_missing_profile_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(CLIP), "--profile", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: model profile not found" in result.output


def test_eval_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    metrics = tmp_path / "m.json"
    args = ["eval", str(CLIP), "--oracle", "--out", str(tmp_path / "ev"), "--json", str(metrics)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "event-level evaluation" in result.output and "overall" in result.output
    data = json.loads(metrics.read_text())
    assert data["overall"]["truths"] == 3 and data["overall"]["f1"] == 1.0
    assert data["per_kind"]["cockroach"]["tp"] == 2 and data["overall"]["duplicates"] == 0


def test_eval_details_name_each_incident_that_went_wrong(tmp_path: Path) -> None:
    # the truth says the second cockroach was there 6 s earlier than the clip shows it: the
    # oracle's event for it opens late, and a bin truth moved off its bin is missed while the
    # bin's own event becomes a false alarm
    clip = tmp_path / CLIP.name
    clip.write_bytes(CLIP.read_bytes())
    doc = json.loads(CLIP.with_suffix(".json").read_text())
    for e in doc["events"]:
        if e["kind"] == "cockroach" and e["track_id"] == 4:
            e["start_s"] -= 6.0
        if e["kind"] == "open_bin":
            e["track_id"] = 3  # the first cockroach's track: its boxes are not the bin's
    clip.with_suffix(".json").write_text(json.dumps(doc))
    metrics = tmp_path / "m.json"
    args = ["eval", str(clip), "--oracle", "--details", "--out", str(tmp_path / "ev"), "--json", str(metrics)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "3 incident(s) to look at (misses, false alarms, duplicates, late hits):" in lines
    listed = sorted(x.strip().split("  ")[1:4] for x in lines if x.startswith(f"  {clip.stem}  "))
    assert [x[:2] for x in listed] == [["cockroach", "late hit"], ["open_bin", "false"], ["open_bin", "miss"]]
    assert (
        listed[0][2] == "truth 1.20-17.80 s (subject 4)" and listed[2][2] == "truth 6.00-16.87 s (subject 3)"
    )
    assert listed[1][2].startswith("event ") and ", opened " in listed[1][2]
    verdicts = sorted(
        (o["kind"], o["verdict"], o["late"]) for o in json.loads(metrics.read_text())["outcomes"]
    )
    assert verdicts == [
        ("cockroach", "hit", False),
        ("cockroach", "hit", True),
        ("open_bin", "false", False),
        ("open_bin", "miss", False),
    ]


def test_eval_refuses_a_clip_without_ground_truth(tmp_path: Path) -> None:
    lone = tmp_path / "lone.mp4"
    lone.write_bytes(CLIP.read_bytes())
    result = CliRunner().invoke(app, ["eval", str(lone), "--oracle", "--out", str(tmp_path / "ev")])
    assert result.exit_code == 1
    assert "lone.mp4: no ground truth lone.json beside it" in result.output


def test_invalid_profile_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbackend: openvino\n")
    result = CliRunner().invoke(app, ["analyze", str(CLIP), "--profile", str(bad)])
    assert result.exit_code == 2
    (line,) = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert str(bad) in line and "invalid model profile" in line
    assert len([x for x in result.output.splitlines() if x.strip()]) == 1


def test_tuning_set_is_apart_from_the_held_out_one_and_forces_the_rare_kinds(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["synth", "tuning", "--out", str(tmp_path), "--clips", "1", "--forced", "1", "--duration", "8"]
    )
    assert result.exit_code == 0, result.output
    docs = {p.stem: json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))}
    assert sorted(docs) == ["tune_000_canteen", "tune_100_canteen"]
    assert {d["scene"]["seed"] for d in docs.values()} == {800_000, 800_100}
    forced = {e["kind"] for e in docs["tune_100_canteen"]["events"]}
    assert {"smoking", "phone"} <= forced


def test_media_that_cannot_be_written_loses_no_event(tmp_path: Path) -> None:
    """A disk that fills up while a clip is written: here every file may hold at most 64 kB
    (``RLIMIT_FSIZE``, so the write fails inside the muxer as it would with ENOSPC). The clip
    is dropped with a one-line error naming it, no half-written MP4 is left, and every event is
    still in events.jsonl with its snapshot."""
    clip = SAMPLES / "hot_kitchen_mixed.mp4"  # its clip is ~190 kB, its snapshots ~45 kB

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))

    cli = Path(sys.executable).parent / "brightkitchen"
    out = tmp_path / "out"
    run = subprocess.run(
        [str(cli), "analyze", str(clip), "--oracle", "--out", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    errors = [x for x in run.stderr.splitlines() if x.startswith("error: ")]
    assert errors and all("not written: [Errno 27] File too large" in x for x in errors)
    records = [json.loads(x) for x in (out / clip.stem / "events.jsonl").read_text().splitlines()]
    free = CliRunner().invoke(app, ["analyze", str(clip), "--oracle", "--out", str(tmp_path / "free")])
    assert free.exit_code == 0, free.output
    expected = [
        json.loads(x) for x in (tmp_path / "free" / clip.stem / "events.jsonl").read_text().splitlines()
    ]
    assert len(expected) >= 4 and all(r["clip"] for r in expected)  # with room, every event has a clip
    key = lambda r: (r["kind"], r["start_s"], r["end_s"], r["track_id"])  # noqa: E731
    assert sorted(map(key, records)) == sorted(map(key, expected))  # the same events, none lost
    assert all(r["clip"] is None for r in records)
    assert all((out / clip.stem / r["snapshot"]).stat().st_size > 10_000 for r in records)
    assert not list((out / clip.stem).glob("*.mp4"))  # nothing a reviewer could open half-written


def test_without_profile_the_deployments_profile_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``--profile``: ``BK_PROFILE`` (default: the shipped two-stage profile) decides."""
    from api.settings import get_settings

    assert get_settings().profile.name == "kitchen-yolo11n-2stage.yaml" or "BK_PROFILE" in os.environ
    monkeypatch.setenv("BK_PROFILE", str(tmp_path / "site-model.yaml"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["analyze", str(CLIP), "--out", str(tmp_path / "out")])
    finally:
        monkeypatch.delenv("BK_PROFILE")
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert f"{tmp_path / 'site-model.yaml'}: model profile not found" in result.output


def test_threads_reach_the_runtime_and_zero_is_refused(tmp_path: Path) -> None:
    from api.commands.analyze import DetectorSource

    profile = SAMPLES.parent / "models" / "kitchen-yolo11n.yaml"
    source = DetectorSource(profile, oracle=False, threads=1)
    model = source.for_video(CLIP)
    compiled = model._run.compiled  # type: ignore[attr-defined]  # the OpenVINO runner
    assert compiled.get_property("INFERENCE_NUM_THREADS") == 1
    args = ["analyze", str(CLIP), "--profile", str(profile), "--threads", "1", "--out", str(tmp_path / "o")]
    ok = CliRunner().invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "open_bin" in ok.output and "cockroach" in ok.output
    zero = CliRunner().invoke(app, [*args[:-3], "0"])
    assert zero.exit_code == 2 and "--threads" in zero.output
