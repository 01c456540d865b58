"""Clips from a camera's main stream while detection runs on its sub-stream.

Cameras offer a small sub-stream (cheap to decode, enough to detect) and a full-quality main
stream. ``RecordTap`` reads the main stream without decoding it: it keeps the last
``ring_s`` seconds of encoded packets and, for each event, copies packets from the keyframe
before ``start - pre_roll_s`` to ``end + post_roll_s`` into an MP4 (stream copy: no encoder,
no quality loss, ~no CPU). ``RecordingSink`` wraps the event sink: it starts a clip on ``open``
and holds the ``close`` phase until that clip is complete, then sends it on with ``clip_path``
pointing at the main-stream file. Camera-offline events get no clip (there is no footage).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

from streams.health import Backoff
from streams.sources import redact, scrub
from vision.decode import EncodedPacket, encoded_packet
from vision.kinds import ViolationKind
from vision.media import MEDIA_ERRORS, PacketClipWriter, PacketRing, StreamTemplate
from vision.sink import EventSink
from vision.types import EventPhase, ViolationEvent

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Clip:
    event: ViolationEvent
    writer: PacketClipWriter
    stop_wall: float | None = None
    closed_event: ViolationEvent | None = None
    failed: bool = False  # writing failed (disk full): the file is removed, the event kept


class RecordTap:
    """Reads a record URL into a packet ring and writes per-event stream-copy clips."""

    def __init__(
        self,
        camera_id: str,
        url: str,
        media_dir: Path,
        *,
        pre_roll_s: float = 5.0,
        post_roll_s: float = 5.0,
        ring_s: float = 20.0,
        max_clip_s: float = 300.0,
        read_timeout_s: float = 5.0,
    ) -> None:
        self.camera_id, self.url, self.media_dir = camera_id, url, media_dir
        self.pre_roll_s, self.post_roll_s, self.ring_s, self.max_clip_s = (
            pre_roll_s,
            post_roll_s,
            ring_s,
            max_clip_s,
        )
        self.read_timeout_s = read_timeout_s
        self._ring = PacketRing(ring_s)  # packets stamped with the wall time they arrived
        self._clips: dict[str, _Clip] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._template: StreamTemplate | None = None  # the record stream's codec parameters
        self.finished_cb: Callable[[ViolationEvent, str | None], None] | None = None
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"record-{camera_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[tuple[ViolationEvent, str | None]]:
        """Stop reading and finalize every clip now; returns held close events with their clips."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        with self._lock:
            return [self._finish(eid) for eid in list(self._clips)]

    # reading --------------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                self._read_session(backoff)
            except (av.FFmpegError, OSError) as exc:
                self.last_error = scrub(str(exc))
                log.warning("record stream %s (%s): %s", self.camera_id, redact(self.url), self.last_error)
            if self._stop.wait(backoff.next()):
                return

    def _read_session(self, backoff: Backoff) -> None:
        half = self.read_timeout_s / 2
        opts = {"rtsp_transport": "tcp", "timeout": str(int(half * 1_000_000))} if "://" in self.url else {}
        with av.open(self.url, options=opts, timeout=(5.0, half)) as box:
            stream = box.streams.video[0]
            with self._lock:
                self._template = StreamTemplate(stream)
                self._ring.clear()  # packets of an earlier connection have another time base
            for pkt in box.demux(stream):
                if self._stop.is_set():
                    return
                p = encoded_packet(pkt, lambda _pts: time.time())  # stamped with its arrival
                if p is None:
                    continue
                backoff.reset()
                self._push(p)

    def _push(self, p: EncodedPacket) -> None:
        done: list[tuple[ViolationEvent, str | None]] = []
        with self._lock:
            self._ring.push(p)
            for eid, clip in list(self._clips.items()):
                try:
                    clip.writer.write(p)
                except MEDIA_ERRORS as exc:  # disk full: give the clip up now, keep the event
                    clip.failed = True
                    self._media_failed(clip.writer.path, exc)
                    done.append(self._finish(eid))
                    continue
                too_long = p.ts_s - (clip.event.started_wall or p.ts_s) > self.max_clip_s
                if (clip.stop_wall is not None and p.ts_s >= clip.stop_wall) or too_long:
                    done.append(self._finish(eid))
        for event, path in done:
            self._deliver(event, path)

    # clips ----------------------------------------------------------------------------------
    def begin(self, event: ViolationEvent) -> bool:
        """Start the clip of ``event`` with the ring's pre-roll; False when no packets are here."""
        start_wall = event.started_wall or time.time()
        with self._lock:
            if self._template is None or not self._ring or event.id in self._clips:
                return False
            stem = f"{event.kind.value}-{event.started_s:08.2f}s-{event.id[:8]}-main"
            path = self.media_dir / f"{stem}.mp4"
            writer: PacketClipWriter | None = None
            try:
                writer = PacketClipWriter(path, self._template)
                for p in self._ring.since(start_wall - self.pre_roll_s):
                    writer.write(p)
            except MEDIA_ERRORS as exc:  # the event goes on with the pipeline's own clip, if any
                self._media_failed(path, exc)
                with contextlib.suppress(*MEDIA_ERRORS):
                    if writer is not None:
                        writer.finish(keep=False)
                    else:
                        path.unlink(missing_ok=True)
                return False
            self._clips[event.id] = _Clip(event, writer)
            return True

    def end(self, event: ViolationEvent) -> None:
        """The event closed: keep writing for the post-roll, then hand the event on."""
        start = event.started_wall or time.time()
        end_wall = start + ((event.ended_s or event.updated_s) - event.started_s)
        with self._lock:
            clip = self._clips.get(event.id)
            if clip is None:
                return
            clip.closed_event = event
            clip.stop_wall = max(end_wall + self.post_roll_s, self._ring.last_ts_s)

    def holds(self, event_id: str) -> bool:
        with self._lock:
            return event_id in self._clips

    def _finish(self, event_id: str) -> tuple[ViolationEvent, str | None]:
        clip = self._clips.pop(event_id)
        try:
            kept = clip.writer.finish(keep=not clip.failed)
        except MEDIA_ERRORS as exc:
            kept = None
            if not clip.failed:
                self._media_failed(clip.writer.path, exc)
        return (clip.closed_event or clip.event, str(kept) if kept else None)

    def _media_failed(self, path: Path, exc: BaseException) -> None:
        self.last_error = f"main-stream clip {path} not written: {exc}"
        log.warning("camera %s: %s", self.camera_id, self.last_error)

    def _deliver(self, event: ViolationEvent, path: str | None) -> None:
        if self.finished_cb is not None:
            self.finished_cb(event, path)


class RecordingSink:
    """Adds main-stream clips to a camera's events; holds each close until its clip is done."""

    def __init__(self, inner: EventSink, tap: RecordTap) -> None:
        self.inner = inner
        self.tap = tap
        self._closes: dict[str, ViolationEvent] = {}
        self._lock = threading.Lock()
        tap.finished_cb = self._clip_done

    def emit(self, event: ViolationEvent) -> None:
        if event.kind is ViolationKind.CAMERA_OFFLINE:
            self.inner.emit(event)
            return
        if event.phase is EventPhase.OPEN:
            self.tap.begin(event)
        elif event.phase is EventPhase.CLOSE and self.tap.holds(event.id):
            with self._lock:
                self._closes[event.id] = dataclasses.replace(event)
            self.tap.end(event)
            return
        self.inner.emit(event)

    def _clip_done(self, event: ViolationEvent, path: str | None) -> None:
        with self._lock:
            held = self._closes.pop(event.id, None)
        if held is None:
            return  # cut at max length while still open: the close will come later
        self.inner.emit(dataclasses.replace(held, clip_path=path or held.clip_path))

    def close(self) -> None:
        """Finalize every clip (shutdown) and emit the close events still held."""
        for event, path in self.tap.stop():
            self._clip_done(event, path)
