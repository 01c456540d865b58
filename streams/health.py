"""Camera health: reconnect backoff, per-camera status and counters, and ``camera_offline``.

A camera that goes dark is itself a violation (an unplugged camera is the oldest way to hide
one), so health produces ``ViolationEvent`` values through the same ``EventSink`` as the rules.

- ``Backoff``: exponential with full jitter, 1 s → 30 s, reset after a healthy stretch.
- ``CameraHealth``: thread-safe counters (fps in, drops, detector fps, reconnects, last error)
  and the status ``online`` / ``degraded`` / ``offline`` computed from a sliding window.
- ``OfflineMonitor``: opens ``camera_offline`` when no frame arrived for ``offline_after_s``
  and closes it when frames return.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from streams.sources import scrub
from vision.kinds import Severity, ViolationKind
from vision.sink import EventSink
from vision.types import EventPhase, ViolationEvent


class Backoff:
    """Delays between reconnect attempts: ``base * factor**n`` capped at ``max_s``, with jitter.

    Jitter (±``jitter`` of the delay) keeps many cameras behind one NVR from reconnecting in
    lockstep after a shared outage.

    >>> b = Backoff(base_s=1, max_s=30, jitter=0.0)
    >>> [b.next() for _ in range(7)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    """

    def __init__(
        self,
        base_s: float = 1.0,
        max_s: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        if base_s <= 0 or max_s < base_s or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("backoff needs 0 < base_s <= max_s, factor >= 1, 0 <= jitter < 1")
        self.base_s, self.max_s, self.factor, self.jitter = base_s, max_s, factor, jitter
        self._rng = rng or random.Random()
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.max_s, self.base_s * self.factor**self.attempt)
        self.attempt += 1
        if self.jitter:
            delay *= 1.0 + self._rng.uniform(-self.jitter, self.jitter)
        return min(delay, self.max_s)

    def reset(self) -> None:
        self.attempt = 0


class CameraStatus(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    DEGRADED = "degraded"  # fps below target or frames dropped in the window
    OFFLINE = "offline"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """What the status page shows for one camera."""

    camera_id: str
    status: CameraStatus
    connected: bool
    fps_in: float
    process_fps: float
    detector_fps: float
    frames_in: int
    frames_processed: int
    frames_dropped: int
    drops_in_window: int
    detections: int
    reconnects: int
    lag_s: float | None  # read → pipeline done, for the last processed frame
    stream_lag_s: float | None  # how far reading trails the stream's own clock (RTSP)
    last_frame_age_s: float | None
    last_error: str | None
    expected_fps: float | None

    def as_dict(self) -> dict[str, object]:
        d = {k: getattr(self, k) for k in self.__slots__}
        d["status"] = self.status.value
        return d


@dataclass(slots=True)
class _Window:
    """Event times of the last ``span_s`` seconds: a rate without per-frame allocations elsewhere."""

    span_s: float
    times: deque[float] = field(default_factory=deque)

    def add(self, t: float) -> None:
        self.times.append(t)
        self._trim(t)

    def _trim(self, now: float) -> None:
        while self.times and self.times[0] < now - self.span_s:
            self.times.popleft()

    def count(self, now: float) -> int:
        self._trim(now)
        return len(self.times)

    def rate(self, now: float, since: float) -> float:
        span = min(self.span_s, max(now - since, 1e-6))
        return self.count(now) / span


class CameraHealth:
    """Counters and status of one camera, written by its threads and read by the status page.

    ``degraded`` means frames arrive but below ``min_fps_ratio`` of the expected rate, or the
    latest-frame slot dropped frames in the window (the detector cannot keep up).
    """

    def __init__(
        self,
        camera_id: str,
        *,
        expected_fps: float | None = None,
        window_s: float = 5.0,
        min_fps_ratio: float = 0.8,
        offline_after_s: float = 60.0,
    ) -> None:
        self.camera_id = camera_id
        self.expected_fps = expected_fps
        self.window_s = window_s
        self.min_fps_ratio = min_fps_ratio
        self.offline_after_s = offline_after_s
        self._lock = threading.Lock()
        self._frames = _Window(window_s)
        self._dets = _Window(window_s)
        self._processed = _Window(window_s)
        self._drops = _Window(window_s)
        self.frames_in = 0
        self.frames_dropped = 0
        self.detections = 0
        self.frames_processed = 0
        self.reconnects = 0
        self.connected = False
        self.stopped = False
        self.last_error: str | None = None
        self.last_frame_mono: float | None = None
        self.lag_s: float | None = None
        self.stream_lag_s: float | None = None
        self._since = time.monotonic()
        self._connected_at = self._since

    def on_connected(self, nominal_fps: float | None) -> None:
        with self._lock:
            if self.expected_fps is None and nominal_fps:
                self.expected_fps = nominal_fps
            self.connected = True
            self._connected_at = time.monotonic()

    def on_frame(self) -> None:
        now = time.monotonic()
        with self._lock:
            self.frames_in += 1
            self.last_frame_mono = now
            self.connected = True
            self._frames.add(now)

    def on_drop(self, n: int = 1) -> None:
        now = time.monotonic()
        with self._lock:
            self.frames_dropped += n
            for _ in range(n):
                self._drops.add(now)

    def on_processed(self, lag_s: float | None) -> None:
        now = time.monotonic()
        with self._lock:
            self.frames_processed += 1
            self._processed.add(now)
            self.lag_s = lag_s

    def on_detection(self, n: int = 1) -> None:
        now = time.monotonic()
        with self._lock:
            self.detections += n
            for _ in range(n):
                self._dets.add(now)

    def on_error(self, message: str) -> None:
        with self._lock:
            self.connected = False
            self.last_error = scrub(message)

    def on_reconnect_attempt(self) -> None:
        with self._lock:
            self.reconnects += 1

    def on_stopped(self) -> None:
        with self._lock:
            self.stopped = True
            self.connected = False

    def frame_age_s(self, now: float | None = None) -> float | None:
        """Seconds since the last frame (since start when none came yet)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            ref = self.last_frame_mono if self.last_frame_mono is not None else self._since
            return now - ref

    def snapshot(self) -> HealthSnapshot:
        now = time.monotonic()
        with self._lock:
            fps_in = self._frames.rate(now, self._connected_at)
            proc_fps = self._processed.rate(now, self._connected_at)
            det_fps = self._dets.rate(now, self._connected_at)
            drops = self._drops.count(now)
            age = None if self.last_frame_mono is None else now - self.last_frame_mono
            status = self._status(now, fps_in, drops, age)
            return HealthSnapshot(
                self.camera_id,
                status,
                self.connected,
                round(fps_in, 2),
                round(proc_fps, 2),
                round(det_fps, 2),
                self.frames_in,
                self.frames_processed,
                self.frames_dropped,
                drops,
                self.detections,
                self.reconnects,
                None if self.lag_s is None else round(self.lag_s, 3),
                None if self.stream_lag_s is None else round(self.stream_lag_s, 3),
                None if age is None else round(age, 3),
                self.last_error,
                self.expected_fps,
            )

    def _status(self, now: float, fps_in: float, drops: int, age: float | None) -> CameraStatus:
        if self.stopped:
            return CameraStatus.STOPPED
        if age is None:
            return CameraStatus.OFFLINE if now - self._since > self.offline_after_s else CameraStatus.STARTING
        if not self.connected or age > max(2.0, 3.0 / (self.expected_fps or 1.0)):
            return CameraStatus.OFFLINE
        settled = now - self._connected_at >= self.window_s
        slow = settled and self.expected_fps is not None and fps_in < self.min_fps_ratio * self.expected_fps
        return CameraStatus.DEGRADED if slow or drops > 0 else CameraStatus.ONLINE


class OfflineMonitor:
    """Turns a camera's silence into a ``camera_offline`` violation event.

    ``check`` is called by the runtime's watchdog about once a second; ``on_frame`` by the
    reader. The event starts at the last frame seen (the footage really lost) and ends at the
    first frame after the outage; times are seconds on the monotonic clock since the monitor was
    built. ``severity_at(unix_time)`` picks the colour (red inside working hours).
    """

    def __init__(
        self,
        camera_id: str,
        sink: EventSink,
        *,
        offline_after_s: float = 60.0,
        severity_at: Callable[[float], Severity] | None = None,
        rule_version: str = "",
        enabled: bool = True,
    ) -> None:
        self.camera_id = camera_id
        self.enabled = enabled
        self.sink = sink
        self.offline_after_s = offline_after_s
        self.severity_at = severity_at or (lambda _wall: Severity.ORANGE)
        self.rule_version = rule_version
        self._lock = threading.Lock()
        self._t0_mono = time.monotonic()
        self._t0_wall = time.time()
        self._last_frame_mono = self._t0_mono
        self.event: ViolationEvent | None = None

    def _ts(self, mono: float) -> float:
        return mono - self._t0_mono

    def on_frame(self, now_mono: float | None = None) -> None:
        now = time.monotonic() if now_mono is None else now_mono
        with self._lock:
            self._last_frame_mono = now
            event, self.event = self.event, None
        if event is not None:
            event.ended_s = event.updated_s = self._ts(now)
            event.phase = EventPhase.CLOSE
            self.sink.emit(event)

    def check(self, now_mono: float | None = None) -> ViolationEvent | None:
        """Open the event when the silence passed the limit; returns the open event, if any."""
        now = time.monotonic() if now_mono is None else now_mono
        with self._lock:
            silent = now - self._last_frame_mono
            if not self.enabled or self.event is not None or silent <= self.offline_after_s:
                return self.event
            start = self._last_frame_mono
            self.event = ViolationEvent(
                kind=ViolationKind.CAMERA_OFFLINE,
                severity=self.severity_at(self._t0_wall + (start - self._t0_mono)),
                camera_id=self.camera_id,
                track_id=0,
                started_s=self._ts(start),
                updated_s=self._ts(now),
                confidence=1.0,
                xyxy=(0.0, 0.0, 0.0, 0.0),
                rule_version=self.rule_version,
                started_wall=self._t0_wall + (start - self._t0_mono),
            )
            event = self.event
        self.sink.emit(event)
        return event

    def close(self) -> None:
        """On shutdown an open outage is closed at the stop time: the camera was dark until then."""
        with self._lock:
            event, self.event = self.event, None
        if event is not None:
            event.ended_s = event.updated_s = self._ts(time.monotonic())
            event.phase = EventPhase.CLOSE
            self.sink.emit(event)
