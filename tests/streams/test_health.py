from __future__ import annotations

import random
import time

import pytest

from streams.health import Backoff, CameraHealth, CameraStatus, OfflineMonitor
from streams.sinks import CollectingSink
from vision.kinds import Severity, ViolationKind
from vision.types import EventPhase


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    b = Backoff(base_s=1, max_s=30, jitter=0.0)
    assert [b.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    b.reset()
    assert b.next() == 1


def test_backoff_jitter_stays_within_bounds_and_varies() -> None:
    b = Backoff(base_s=1, max_s=30, jitter=0.2, rng=random.Random(1))
    delays = []
    for _ in range(20):
        b.reset()
        delays.append(b.next())
    assert all(0.8 <= d <= 1.2 for d in delays)
    assert len(set(delays)) > 10
    b.reset()
    assert all(d <= 30 for d in (b.next() for _ in range(12)))


@pytest.mark.parametrize(
    "kwargs", [{"base_s": 0}, {"base_s": 5, "max_s": 1}, {"factor": 0.5}, {"jitter": 1.0}]
)
def test_backoff_rejects_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_health_status_online_then_degraded_by_drops_then_offline() -> None:
    h = CameraHealth("c1", expected_fps=15, offline_after_s=60)
    assert h.snapshot().status is CameraStatus.STARTING
    h.on_connected(15)
    for _ in range(5):
        h.on_frame()
    snap = h.snapshot()
    assert snap.status is CameraStatus.ONLINE and snap.frames_in == 5 and snap.connected
    h.on_drop(2)
    snap = h.snapshot()
    assert snap.status is CameraStatus.DEGRADED and snap.frames_dropped == 2
    h.on_error("stream ended")
    snap = h.snapshot()
    assert snap.status is CameraStatus.OFFLINE and snap.last_error == "stream ended"
    h.on_reconnect_attempt()
    h.on_detection(3)
    h.on_processed(0.2)
    snap = h.snapshot()
    assert snap.reconnects == 1 and snap.detections == 3 and snap.lag_s == 0.2 and snap.frames_processed == 1
    assert snap.as_dict()["status"] == "offline"
    h.on_stopped()
    assert h.snapshot().status is CameraStatus.STOPPED


def test_health_takes_expected_fps_from_the_stream() -> None:
    h = CameraHealth("c1")
    h.on_connected(12.5)
    assert h.snapshot().expected_fps == 12.5


def test_offline_monitor_opens_once_after_the_limit_and_closes_on_frames() -> None:
    sink = CollectingSink()
    m = OfflineMonitor("c1", sink, offline_after_s=3, severity_at=lambda _t: Severity.RED)
    t = time.monotonic()
    m.on_frame(t)
    assert m.check(t + 2.9) is None and sink.events == []
    ev = m.check(t + 3.1)
    assert ev is not None and m.check(t + 5) is ev  # no second event for the same outage
    m.on_frame(t + 7)
    phases = [(e.kind, e.phase, e.severity) for e in sink.events]
    assert phases == [
        (ViolationKind.CAMERA_OFFLINE, EventPhase.OPEN, Severity.RED),
        (ViolationKind.CAMERA_OFFLINE, EventPhase.CLOSE, Severity.RED),
    ]
    opened, closed = sink.events
    assert opened.id == closed.id
    assert closed.ended_s is not None and closed.ended_s - opened.started_s == pytest.approx(7.0, abs=0.01)
    assert opened.started_wall is not None


def test_offline_monitor_closes_an_open_outage_on_shutdown() -> None:
    sink = CollectingSink()
    m = OfflineMonitor("c1", sink, offline_after_s=1)
    t = time.monotonic()
    m.on_frame(t - 5)
    assert m.check(t) is not None
    m.close()
    assert [e.phase for e in sink.events] == [EventPhase.OPEN, EventPhase.CLOSE]
    assert sink.events[0].severity is Severity.ORANGE


def test_offline_monitor_can_be_disabled_by_the_rules() -> None:
    sink = CollectingSink()
    m = OfflineMonitor("c1", sink, offline_after_s=1, enabled=False)
    t = time.monotonic()
    m.on_frame(t - 100)
    assert m.check(t) is None and sink.events == []
