"""The runtime against a real RTSP server that dies, comes back, and freezes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streams.config import parse_config
from streams.runtime import Runtime
from streams.sinks import CollectingSink
from streams.testing import RtspServer
from vision.kinds import ViolationKind
from vision.types import EventPhase

from .conftest import new_threads, threads_now, wait_for

OFFLINE_AFTER_S = 3.0


def offline_phases(sink: CollectingSink) -> list[EventPhase]:
    return [e.phase for e in sink.snapshot() if e.kind is ViolationKind.CAMERA_OFFLINE]


@pytest.fixture
def runtime(rtsp_server: RtspServer, tmp_path: Path) -> Runtime:
    cfg = parse_config(
        {
            "sites": [
                {"id": "s1", "cameras": [{"id": "cam0", "url": rtsp_server.url("cam0"), "detect_fps": 5}]}
            ],
            "health": {"offline_after_s": OFFLINE_AFTER_S, "stall_timeout_s": 4, "open_timeout_s": 3},
            "http": {"enabled": False},
            "status_file": str(tmp_path / "status.json"),
        }
    )
    return Runtime(cfg, sink=CollectingSink())


def test_server_dies_and_returns_then_freezes_and_thaws(rtsp_server: RtspServer, runtime: Runtime) -> None:
    threads_before = threads_now()
    sink = runtime.sink
    assert isinstance(sink, CollectingSink)
    runtime.start()
    worker = runtime.workers["cam0"]
    wait_for(lambda: worker.health.frames_in > 15, 15)
    wait_for(lambda: runtime.status()["cameras"]["cam0"]["status"] == "online", 10)  # type: ignore[index]

    # 1. the server process dies mid-stream
    rtsp_server.kill()
    killed = time.monotonic()
    noticed_s = wait_for(lambda: not worker.health.connected, 10)
    assert noticed_s < 10 and worker.health.last_error
    wait_for(lambda: offline_phases(sink) == [EventPhase.OPEN], OFFLINE_AFTER_S + 3)
    assert time.monotonic() - killed >= OFFLINE_AFTER_S - 0.5  # not before the configured time
    time.sleep(max(0.0, killed + 6 - time.monotonic()))  # a 6 s outage
    frames_at_return = worker.health.frames_in
    rtsp_server.start()
    returned = time.monotonic()
    wait_for(lambda: worker.health.frames_in > frames_at_return, 8)
    assert time.monotonic() - returned < 5  # reconnected within 5 s of the server's return
    wait_for(lambda: offline_phases(sink) == [EventPhase.OPEN, EventPhase.CLOSE], 3)
    opened, closed = [e for e in sink.snapshot() if e.kind is ViolationKind.CAMERA_OFFLINE]
    assert opened.id == closed.id and closed.ended_s is not None
    assert 5.5 < closed.ended_s - opened.started_s < 12
    assert worker.health.reconnects >= 1

    # 2. the server freezes (SIGSTOP): TCP stays open, no data; the read timeout must notice
    wait_for(lambda: worker.health.connected and worker.health.frames_in > frames_at_return + 15, 10)
    rtsp_server.pause()
    frozen = time.monotonic()
    wait_for(lambda: not worker.health.connected, 10)
    assert time.monotonic() - frozen < 10
    rtsp_server.resume()
    frames_at_thaw = worker.health.frames_in
    wait_for(lambda: worker.health.frames_in > frames_at_thaw + 5, 15)

    status = runtime.status()["cameras"]["cam0"]  # type: ignore[index]
    assert status["reconnects"] >= 2 and status["frames_in"] > frames_at_thaw + 5  # type: ignore[index,operator]
    runtime.stop()
    assert sink.closed
    assert new_threads(threads_before) == []  # every reader, processor, watchdog, detector thread ended
    assert runtime.config.status_file is not None and runtime.config.status_file.is_file()
