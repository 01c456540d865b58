"""The camera runtime behind ``brightkitchen run --config sites.yaml``.

``Runtime.start()`` is an ordered list of steps (detector, workers, watchdog, HTTP) and
``stop()`` undoes them in reverse: workers first, so each pipeline finishes its frame and
closes its open events and clips while the detector still answers, then the detector, the
HTTP server and the sink. A SIGTERM handler only sets an event; ``run_forever`` does the stop.

Threads: two per camera (reader, processor), one shared detector, one watchdog, one HTTP server.

Example::

    rt = Runtime(load_config("sites.yaml"), sink=JsonlEventSink("var/events.jsonl"))
    rt.start()
    print(rt.status())
    rt.stop()
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from streams.config import CameraConfig, RuntimeConfig
from streams.detect import BatchingDetector, NullDetector
from streams.record import RecordingSink, RecordTap
from streams.sinks import JsonlEventSink
from streams.sources import open_source, redact
from streams.worker import CameraWorker, PipelineContext, PipelineFactory, SourceFactory
from vision.detector import Detector
from vision.sink import EventSink

if TYPE_CHECKING:
    from streams.live import Authorize

log = logging.getLogger(__name__)


class Runtime:
    def __init__(
        self,
        config: RuntimeConfig,
        *,
        sink: EventSink | None = None,
        detector: Detector | None = None,
        pipeline_factory: PipelineFactory | None = None,
        source_factory: SourceFactory = open_source,
        authorize: Authorize | None = None,
    ) -> None:
        self.config = config
        if sink is None:
            sink = JsonlEventSink(config.events_file or Path("var/events.jsonl"))
        self.sink = sink
        self._detector_model = detector
        self.pipeline_factory = pipeline_factory
        self.source_factory = source_factory
        self.authorize = authorize
        self.detector: BatchingDetector | None = None
        self.workers: dict[str, CameraWorker] = {}
        self.http_port: int | None = None
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._http: _HttpServer | None = None
        self._started_mono = 0.0

    # start / stop ---------------------------------------------------------------------------
    def start(self) -> None:
        """Detector, workers, HTTP (a busy port fails before any camera opens), cameras, watchdog.

        On any failure what was started is stopped again, then the error is raised.
        """
        self._started_mono = time.monotonic()
        try:
            self._init_detector()
            self._init_workers()
            if self.config.http.enabled:
                self._start_http()
            for w in self.workers.values():
                w.start()
            self._start_watchdog()
        except BaseException:
            self.stop()
            raise
        log.info("runtime started: %d camera(s)", len(self.workers))

    def _init_detector(self) -> None:
        model = self._detector_model
        if model is None:
            cfg = self.config.detector
            model = load_detector(cfg.profile, backend=cfg.backend, threads=cfg.threads)
        t0 = time.perf_counter()
        model.detect([np.zeros((360, 640, 3), np.uint8)])  # first call sets the model up (seconds)
        log.info("detector %s ready in %.1f s", model.model_version, time.perf_counter() - t0)
        cfg = self.config.detector
        self.detector = BatchingDetector(model, max_batch=cfg.max_batch, max_wait_s=cfg.max_wait_ms / 1000)
        self.detector.start()

    def _init_workers(self) -> None:
        assert self.detector is not None
        factory = self.pipeline_factory or default_pipeline_factory()
        for site, cam in self.config.cameras():
            client = self.detector.client(cam.id)
            sink, recording = self._camera_sink(site.id, cam)
            ctx = PipelineContext(site, cam, client, sink, self.config.media_dir)
            self.workers[cam.id] = CameraWorker(
                site,
                cam,
                self.config.camera_health(cam),
                sink,
                detector=client,
                pipeline=factory(ctx) if factory else None,
                source_factory=self.source_factory,
                recording=recording,
            )

    def _camera_sink(self, site_id: str, cam: CameraConfig) -> tuple[EventSink, RecordingSink | None]:
        """With a record URL, events get clips cut from the main stream (stream copy)."""
        if not cam.record_url:
            return self.sink, None
        health = self.config.camera_health(cam)
        tap = RecordTap(
            cam.id,
            cam.record_url,
            self.config.media_dir / site_id / cam.id,
            read_timeout_s=health.stall_timeout_s,
        )
        recording = RecordingSink(self.sink, tap)
        return recording, recording

    def _start_watchdog(self) -> None:
        self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._watchdog.start()

    def _watch(self) -> None:
        last_status = 0.0
        while not self._stop.wait(0.5):
            for w in self.workers.values():
                w.watchdog_tick()
            if self.config.status_file and time.monotonic() - last_status >= 1.0:
                last_status = time.monotonic()
                self.write_status(self.config.status_file)

    def _start_http(self) -> None:
        from streams.live import LiveCamera, build_live_app

        cams = {
            cid: LiveCamera(cid, w.site.id, w.hub, w.site.public_live and w.camera.live, w.detector)
            for cid, w in self.workers.items()
            if w.camera.live
        }
        app = build_live_app(cams, status=self.status, authorize=self.authorize or self._token_hook())
        self._http = _HttpServer(app, self.config.http.host, self.config.http.port)
        self.http_port = self._http.start()

    def _token_hook(self) -> Authorize | None:
        from streams.live import bearer_token

        name = self.config.http.token_env
        if not name:
            return None
        token = os.environ.get(name, "")
        if not token:
            raise RuntimeError(f"http.token_env names {name}, but that environment variable is empty")
        return bearer_token(token)

    def stop(self) -> None:
        """Idempotent ordered shutdown; every open event and clip is finalized."""
        if self._stop.is_set():
            return
        self._stop.set()
        for w in self.workers.values():
            w.stop()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)
        if self.detector is not None:
            self.detector.stop()
        if self._http is not None:
            self._http.stop()
        if self.config.status_file:
            self.write_status(self.config.status_file)
        self.sink.close()
        log.info("runtime stopped")

    def run_forever(self) -> None:
        """Start, then block until SIGTERM or SIGINT, then stop cleanly."""
        stop_requested = threading.Event()

        def _on_signal(signum: int, _frame: object) -> None:
            log.info("signal %d: stopping", signum)
            stop_requested.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        try:
            while not stop_requested.wait(0.5):
                pass
        finally:
            self.stop()

    # status ---------------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        cams = {}
        for cid, w in self.workers.items():
            snap = w.health.snapshot().as_dict()
            snap["site_id"] = w.site.id
            snap["url"] = redact(w.camera.url)
            snap["finished"] = w.finished
            snap["offline_event"] = w.offline.event.id if w.offline.event else None
            snap["tampered"] = None if w.tamper is None or w.tamper.cause is None else w.tamper.cause.value
            snap["record_error"] = w.recording.tap.last_error if w.recording else None
            media_errors = getattr(w.pipeline, "media_errors", None)  # clips/snapshots not written
            snap["media_error"] = media_errors[-1] if media_errors else None
            cams[cid] = snap
        det = self.detector.stats if self.detector else None
        return {
            "pid": os.getpid(),
            "uptime_s": round(time.monotonic() - self._started_mono, 1),
            "http_port": self.http_port,
            "detector": {
                "model_version": self.detector.model_version if self.detector else "",
                "batches": det.batches if det else 0,
                "images": det.images if det else 0,
                "mean_batch": round(det.mean_batch, 2) if det else 0.0,
                "busy_s": round(det.busy_s, 2) if det else 0.0,
            },
            "cameras": cams,
        }

    def write_status(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.status(), indent=1, default=str), encoding="utf-8")
        tmp.replace(path)  # readers never see half a file


def load_detector(
    profile: Path | None, *, backend: str | None = None, threads: int | None = None
) -> Detector:
    """The detector of a model profile (``vision.refine``: two-stage when the profile says so);
    with no profile, health only."""
    if profile is None:
        return NullDetector()
    if not Path(profile).is_file():
        raise FileNotFoundError(f"model profile not found: {profile}")
    from vision.refine import load_detector as load_profile_detector

    detector, _profile = load_profile_detector(Path(profile), backend=backend, threads=threads)
    return detector


def default_pipeline_factory() -> PipelineFactory | None:
    """The vision layer's per-camera pipeline, when this build has one."""
    try:
        from streams.adapter import vision_pipeline_factory
    except ImportError:  # pragma: no cover - vision pipeline not present in this build
        return None
    return vision_pipeline_factory


class _HttpServer:
    """uvicorn in a thread with its own event loop (aiortc peers live on that loop)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(self.config)
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)

    def _serve(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> int:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("live-view HTTP server did not start (port in use?)")
            time.sleep(0.02)
        sock = self.server.servers[0].sockets[0]
        return int(sock.getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
