"""Worker behaviour that needs a source we can hang at will (a real file behind a gate)."""

from __future__ import annotations

import threading
from pathlib import Path

from streams.config import parse_config
from streams.runtime import Runtime
from streams.sinks import CollectingSink
from streams.sources import FileSource
from vision.types import Frame

from .conftest import wait_for


class HangingFile(FileSource):
    """A looping file whose reads block while ``gate`` is clear, like a driver stuck in a read."""

    def __init__(self, path: Path) -> None:
        super().__init__("cam", str(path), loop=True, realtime=True)
        self.gate = threading.Event()
        self.gate.set()

    def read(self) -> Frame | None:
        self.gate.wait()
        return super().read()


def test_watchdog_marks_a_read_that_hangs_and_clears_when_frames_return(
    pattern_clip: Path, tmp_path: Path
) -> None:
    source = HangingFile(pattern_clip)
    cfg = parse_config(
        {
            "sites": [{"id": "s", "cameras": [{"id": "cam", "url": str(pattern_clip)}]}],
            "health": {"stall_timeout_s": 0.5, "offline_after_s": 60},
            "http": {"enabled": False},
            "media_dir": str(tmp_path),
        }
    )
    rt = Runtime(cfg, sink=CollectingSink(), source_factory=lambda _spec: source)
    rt.start()
    try:
        health = rt.workers["cam"].health
        wait_for(lambda: health.frames_in > 10, 10)
        source.gate.clear()
        wait_for(lambda: not health.connected, 5)
        assert health.last_error is not None and health.last_error.startswith("stalled: no frame for")
        assert rt.status()["cameras"]["cam"]["status"] == "offline"  # type: ignore[index]
        source.gate.set()
        wait_for(lambda: health.connected, 5)
        wait_for(lambda: rt.status()["cameras"]["cam"]["status"] != "offline", 5)  # type: ignore[index]
    finally:
        source.gate.set()
        rt.stop()


def test_live_viewers_get_every_frame_analysis_only_the_due_ones(pattern_clip: Path, tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "sites": [
                {
                    "id": "s",
                    "cameras": [{"id": "cam", "url": str(pattern_clip), "loop": True, "detect_fps": 5}],
                }
            ],
            "http": {"enabled": False},
            "media_dir": str(tmp_path),
        }
    )
    rt = Runtime(cfg, sink=CollectingSink())
    rt.start()
    try:
        w = rt.workers["cam"]
        wait_for(lambda: w.health.frames_in >= 15, 10)
        f0, v0 = w.health.frames_in, w.hub.version
        wait_for(lambda: w.health.frames_in >= f0 + 30, 10)
        f1, v1 = w.health.frames_in, w.hub.version
        assert v1 - v0 <= (f1 - f0) / 2  # about 1 in 3 frames converted and published
        w.hub.add_viewer()
        wait_for(lambda: w.health.frames_in >= f1 + 2, 5)
        f2, v2 = w.health.frames_in, w.hub.version
        wait_for(lambda: w.health.frames_in >= f2 + 30, 10)
        assert w.hub.version - v2 >= 28  # with a viewer every frame reaches the hub
        assert w.health.frames_processed > 0
    finally:
        rt.stop()
