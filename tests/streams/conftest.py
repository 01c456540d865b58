"""Shared fixtures: synthetic test clips (made with PyAV) and the real local RTSP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.testing import RtspServer, gstreamer_rtsp_available, make_pattern_clip


@pytest.fixture(scope="session")
def pattern_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pattern_clip(tmp_path_factory.mktemp("clips") / "pattern.mp4", seconds=6.0)


@pytest.fixture(scope="session")
def gst_ok() -> bool:
    if not gstreamer_rtsp_available():
        pytest.fail("GStreamer RTSP server (gir1.2-gst-rtsp-server-1.0) missing: run scripts/system-deps.sh")
    return True


@pytest.fixture
def rtsp_server(pattern_clip: Path, gst_ok: bool) -> Iterator[RtspServer]:
    server = RtspServer({"cam0": pattern_clip})
    server.start()
    yield server
    server.stop()


def wait_for(pred: Callable[[], object], timeout_s: float, step_s: float = 0.05) -> float:
    """Seconds until ``pred()`` held; fails the test at ``timeout_s``."""
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(step_s)
    return time.monotonic() - t0


def threads_now() -> set[threading.Thread]:
    return set(threading.enumerate())


def new_threads(before: set[threading.Thread]) -> list[str]:
    """Threads alive now that were not alive at ``before`` (leaks); earlier ones may end meanwhile."""
    return sorted(t.name for t in threading.enumerate() if t not in before and t.is_alive())
