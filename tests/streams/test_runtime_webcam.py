"""A configured webcam that is not plugged in: a clear error, retries, and camera_offline."""

from __future__ import annotations

from pathlib import Path

from streams.config import parse_config
from streams.runtime import Runtime
from streams.sinks import CollectingSink
from vision.kinds import ViolationKind
from vision.types import EventPhase

from .conftest import wait_for


def test_missing_webcam_goes_offline_and_keeps_retrying(tmp_path: Path) -> None:
    device = "/dev/video97"
    assert not Path(device).exists()
    cfg = parse_config(
        {
            "sites": [{"id": "s", "cameras": [{"id": "usb", "url": device}]}],
            "health": {"offline_after_s": 1.5, "backoff_base_s": 0.2, "backoff_max_s": 0.5},
            "http": {"enabled": False},
            "media_dir": str(tmp_path),
        }
    )
    sink = CollectingSink()
    rt = Runtime(cfg, sink=sink)
    rt.start()
    try:
        wait_for(lambda: any(e.kind is ViolationKind.CAMERA_OFFLINE for e in sink.snapshot()), 10)
        wait_for(lambda: rt.workers["usb"].health.reconnects >= 3, 10)
        status = rt.status()["cameras"]["usb"]  # type: ignore[index]
    finally:
        rt.stop()
    assert status["status"] == "offline"  # type: ignore[index]
    assert "webcam device /dev/video97 does not exist" in status["last_error"]  # type: ignore[index]
    phases = [e.phase for e in sink.snapshot() if e.kind is ViolationKind.CAMERA_OFFLINE]
    assert phases == [EventPhase.OPEN, EventPhase.CLOSE]  # closed at shutdown


def test_rules_override_sets_the_offline_time(tmp_path: Path) -> None:
    cam = {
        "id": "usb",
        "url": "/dev/video97",
        "rules": {"overrides": {"camera_offline": {"min_duration_s": 0.5, "grace_s": 0}}},
    }
    cfg = parse_config(
        {"sites": [{"id": "s", "cameras": [cam]}], "http": {"enabled": False}, "media_dir": str(tmp_path)}
    )
    sink = CollectingSink()
    rt = Runtime(cfg, sink=sink)
    rt.start()
    try:
        assert rt.workers["usb"].offline.offline_after_s == 0.5  # health default (60 s) overridden
        wait_for(lambda: any(e.kind is ViolationKind.CAMERA_OFFLINE for e in sink.snapshot()), 5)
    finally:
        rt.stop()
