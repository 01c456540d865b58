"""One camera at run time: a reader thread that survives drops, a processor thread that runs the
camera's pipeline on the newest frame.

Reader: open → read frames → on error close, back off (1 s → 30 s with jitter) and reopen. While
waiting it probes the server once a second (a TCP connect for RTSP) and retries at once when the
server comes back, so a long backoff does not add minutes of lost footage after an outage.
Every frame goes to the live-view hub; frames due at ``detect_fps`` go to a latest-frame-wins
slot (overwrites are counted as drops). Processor: takes the newest frame, runs the tamper
check and the pipeline (motion gate, shared detector, tracker, rules, clips).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from streams.config import CameraConfig, HealthConfig, SiteConfig
from streams.detect import CameraDetector
from streams.health import Backoff, CameraHealth, OfflineMonitor
from streams.record import RecordingSink
from streams.slots import FrameHub, LatestSlot
from streams.sources import CameraSourceSpec, FrameSource, SourceError, open_source, redact
from streams.tamper import TamperDetector
from vision.kinds import ViolationKind
from vision.sink import EventSink
from vision.types import Frame

log = logging.getLogger(__name__)


class FramePipeline(Protocol):
    """What the runtime needs from a camera's vision pipeline."""

    def process(self, frame: Frame) -> object: ...

    def close(self) -> object: ...


@dataclass(frozen=True, slots=True)
class PipelineContext:
    site: SiteConfig
    camera: CameraConfig
    detector: CameraDetector
    sink: EventSink
    media_dir: Path


PipelineFactory = Callable[[PipelineContext], FramePipeline]
SourceFactory = Callable[[CameraSourceSpec], FrameSource]


class CameraWorker:
    def __init__(
        self,
        site: SiteConfig,
        camera: CameraConfig,
        health_cfg: HealthConfig,
        sink: EventSink,
        *,
        detector: CameraDetector | None = None,
        pipeline: FramePipeline | None = None,
        source_factory: SourceFactory = open_source,
        recording: RecordingSink | None = None,
    ) -> None:
        self.site, self.camera, self.cfg, self.sink = site, camera, health_cfg, sink
        self.recording = recording
        self.detector = detector
        self.pipeline = pipeline
        self.spec = CameraSourceSpec(
            camera_id=camera.id,
            url=camera.url,
            kind=camera.kind or "",
            loop=camera.loop,
            realtime=camera.realtime,
            open_timeout_s=health_cfg.open_timeout_s,
            read_timeout_s=health_cfg.stall_timeout_s,
        )
        self.source = source_factory(self.spec)
        if hasattr(self.source, "wants_image"):
            self.source.wants_image = self._wants_image
        tap = getattr(pipeline, "packet_tap", None)
        if camera.copy_clips and tap is not None and hasattr(self.source, "packet_tap"):
            self.source.packet_tap = tap  # the reader hands the pipeline's clips every packet
        self.hub = FrameHub(camera.id)
        self.slot = LatestSlot()
        self.health = CameraHealth(
            camera.id,
            expected_fps=camera.expected_fps,
            min_fps_ratio=health_cfg.min_fps_ratio,
            offline_after_s=health_cfg.offline_after_s,
        )
        # A camera_offline override in the camera's rules wins over the health section's default.
        offline_rule = camera.rules.overrides.get(ViolationKind.CAMERA_OFFLINE)
        self.offline = OfflineMonitor(
            camera.id,
            sink,
            offline_after_s=offline_rule.min_duration_s if offline_rule else health_cfg.offline_after_s,
            severity_at=lambda unix_s: site.severity_at(camera, ViolationKind.CAMERA_OFFLINE, unix_s),
            enabled=offline_rule.enabled if offline_rule else True,
        )
        tamper_rule = camera.rules.params(ViolationKind.CAMERA_TAMPERED)
        self.tamper = (
            TamperDetector(
                camera.id,
                sink,
                min_duration_s=tamper_rule.min_duration_s,
                grace_s=tamper_rule.grace_s,
                severity=camera.rules.severity(ViolationKind.CAMERA_TAMPERED),
            )
            if health_cfg.tamper and tamper_rule.enabled
            else None
        )
        self.finished = False  # a file played once has ended: not an outage
        self._stop = threading.Event()
        self._next_due = 0.0
        self._reader = threading.Thread(target=self._read_loop, name=f"read-{camera.id}", daemon=True)
        self._processor = threading.Thread(target=self._process_loop, name=f"proc-{camera.id}", daemon=True)
        if detector is not None:
            detector.on_result = self._on_detections

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self.recording is not None:
            self.recording.tap.start()
        self._reader.start()
        self._processor.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop reading, let the pipeline finish its frame, then close open events and clips."""
        self._stop.set()
        self.slot.close()
        for t in (self._reader, self._processor):
            if t.is_alive():
                t.join(timeout_s)
        if self.pipeline is not None:
            try:
                self.pipeline.close()
            except Exception:
                log.exception("camera %s: pipeline close failed", self.camera.id)
        if self.tamper is not None:
            self.tamper.close()
        self.offline.close()
        if self.recording is not None:
            self.recording.close()  # finalize main-stream clips, release held close events
        self.health.on_stopped()

    @property
    def alive(self) -> bool:
        return self._reader.is_alive() or self._processor.is_alive()

    def watchdog_tick(self) -> None:
        """Called twice a second by the runtime: raises ``camera_offline`` on silence, and marks a
        connected stream that went quiet past twice the stall timeout (a read the source's own
        timeouts did not abort) so the status page shows it."""
        if self.finished or self._stop.is_set():
            return
        self.offline.check()
        age = self.health.frame_age_s()
        if self.health.connected and age is not None and age > 2 * self.cfg.stall_timeout_s:
            self.health.on_error(f"stalled: no frame for {age:.0f} s")

    # reader ----------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        backoff = Backoff(self.cfg.backoff_base_s, self.cfg.backoff_max_s)
        while not self._stop.is_set():
            try:
                self._read_session(backoff)
            except SourceError as exc:
                self.health.on_error(str(exc))
                log.warning("camera %s (%s): %s", self.camera.id, redact(self.camera.url), exc)
            except Exception as exc:  # a bug in one camera must not take the process down
                self.health.on_error(f"{type(exc).__name__}: {exc}")
                log.exception("camera %s: reader failed", self.camera.id)
            finally:
                self.source.close()
            if self.finished or self._stop.is_set():
                return
            self._wait_to_reconnect(backoff.next())
            self.health.on_reconnect_attempt()

    def _read_session(self, backoff: Backoff) -> None:
        self.source.open()
        self.health.on_connected(self.source.nominal_fps)
        first = True
        while not self._stop.is_set():
            frame = self.source.read()
            if frame is None:
                self.finished = True
                self.slot.close()
                return
            if first:
                backoff.reset()
                first = False
            self._on_frame(frame)

    def _wants_image(self, ts_s: float) -> bool:
        """Pixels are needed for a frame due for analysis, or while someone watches live."""
        return self.hub.viewers > 0 or self._due(ts_s)

    def _due(self, ts_s: float) -> bool:
        return ts_s + 1e-3 >= self._next_due

    def _on_frame(self, frame: Frame) -> None:
        self.health.on_frame()
        self.health.stream_lag_s = getattr(self.source, "stream_lag_s", None)
        self.offline.on_frame()
        if frame.image.size == 0:
            return  # counted and timed only: nobody wanted its pixels
        self.hub.publish(frame)
        if not self._due(frame.ts_s):
            return
        period = 1.0 / self.camera.detect_fps
        self._next_due = max(self._next_due + period, frame.ts_s + 0.5 * period)
        if self.slot.put(frame):
            self.health.on_drop()

    def _wait_to_reconnect(self, delay_s: float) -> None:
        deadline = time.monotonic() + delay_s
        was_reachable = self.source.probe()
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._stop.wait(min(1.0, left)):
                return
            reachable = self.source.probe()
            if reachable and was_reachable is False:
                return  # the server is back: do not sit out the rest of the backoff
            was_reachable = reachable

    # processor -------------------------------------------------------------------------------
    def _process_loop(self) -> None:
        while not self._stop.is_set():
            frame = self.slot.get(timeout_s=0.5)
            if frame is None:
                if self.finished:
                    return
                continue
            try:
                if self.tamper is not None:
                    self.tamper.update(frame)
                if self.pipeline is not None:
                    self.pipeline.process(frame)
                lag = None if frame.wall_time is None else time.time() - frame.wall_time
                self.health.on_processed(lag)
            except Exception as exc:
                self.health.on_error(f"pipeline: {type(exc).__name__}: {exc}")
                log.exception("camera %s: pipeline failed on frame %d", self.camera.id, frame.index)

    def _on_detections(self, n_images: int) -> None:
        self.health.on_detection(n_images)
