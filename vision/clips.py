"""Evidence media: a pre-roll ring of recent frames, MP4 clips per event, annotated snapshots.

A regulator reviews an event by its clip, so the clip must start before the violation (pre-roll),
run past its end (post-roll) and play in any browser: H.264, yuv420p, ``moov`` before ``mdat``
(``movflags=+faststart``).

Two ways to make a clip. When the source hands over its encoded packets (``start``/``push``,
the ``vision.decode.PacketTap`` protocol: ``run_file`` does) and they are H.264 4:2:0, the
pre-roll is a ring of the source's own packets and the clip is a stream copy of them from the
keyframe at or before ``start - pre_roll``: no encoder, no quality loss, ~20 % less CPU for the
whole pipeline. Otherwise recent frames are kept JPEG-compressed and the clip is encoded from
them with libx264. The writers and rings are in ``vision.media``; this module decides which
event gets which clip and writes the snapshots.

The recorder never leaves a half-written file behind on a clean stop: ``close`` finalizes every
open clip (the post-roll is cut short) and hands back the events waiting for their media.

Example::

    recorder = ClipRecorder(Path("out/cam-1"), fps=15)
    ready = recorder.handle(frame, events, evidence)   # call on every frame
    ready += recorder.close()                          # at the end
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from vision.decode import EncodedPacket
from vision.kinds import Severity
from vision.media import (
    MEDIA_ERRORS,
    ClipWriter,
    FrameRing,
    PacketClipWriter,
    PacketRing,
    StreamTemplate,
    stream_copyable,
)
from vision.rules import Evidence
from vision.types import EventPhase, Frame, ViolationEvent

log = logging.getLogger(__name__)

BoxXYXY = tuple[float, float, float, float]
SEVERITY_BGR: dict[Severity, tuple[int, int, int]] = {
    Severity.RED: (40, 40, 230),
    Severity.ORANGE: (0, 150, 255),
    Severity.YELLOW: (0, 220, 240),
}


def annotate(
    image: npt.NDArray[np.uint8],
    event: ViolationEvent,
    evidence: Evidence,
    ts_s: float,
    wall: datetime | None = None,
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with the subject and deciding boxes, the kind label and the time."""
    out = image.copy()
    colour = SEVERITY_BGR.get(event.severity, (255, 255, 255))

    def rect(box: BoxXYXY, thickness: int) -> None:
        p1, p2 = (int(box[0]), int(box[1])), (int(box[2]), int(box[3]))
        cv2.rectangle(out, p1, p2, colour, thickness)

    rect(evidence.subject_xyxy, 2)
    if evidence.evidence_xyxy != evidence.subject_xyxy:
        rect(evidence.evidence_xyxy, 1)
    label = f"{event.kind.value} {evidence.confidence:.2f} #{event.track_id}"
    x, y = int(evidence.subject_xyxy[0]), max(14, int(evidence.subject_xyxy[1]) - 4)
    (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    cv2.rectangle(out, (x, y - th - 4), (x + tw + 4, y + 2), colour, -1)
    cv2.putText(out, label, (x + 2, y - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    stamp = f"{event.camera_id}  t={ts_s:.1f}s"
    if wall is not None:
        stamp += "  " + wall.strftime("%Y-%m-%d %H:%M:%S")
    h = out.shape[0]
    cv2.putText(out, stamp, (6, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, stamp, (6, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return out


@dataclass(slots=True)
class _Session:
    """One clip file being written; every event that opens while it runs shares it."""

    path: Path
    writer: ClipWriter | PacketClipWriter | None  # None: the file could not even be created
    start_s: float
    members: list[str] = field(default_factory=list)  # event ids
    error: str | None = None  # set: writing failed, the clip is dropped, its events go on without


@dataclass(slots=True)
class _Recording:
    event: ViolationEvent
    session: _Session
    snapshot: Path
    best_confidence: float = -1.0
    best_image: npt.NDArray[np.uint8] | None = None
    best_evidence: Evidence | None = None
    best_ts: float = 0.0
    best_wall: datetime | None = None
    stop_s: float | None = None  # its clip must run until here (event end + post-roll)
    closed_event: ViolationEvent | None = None


class ClipRecorder:
    """Writes clips and snapshots for the events of one camera.

    Events that overlap in time share one clip (a person without hat and mask is one scene,
    not two files), so a camera encodes each frame at most once however many events are open;
    the clip runs from the first event's start minus ``pre_roll_s`` to the last one's end plus
    ``post_roll_s`` (at most ``max_clip_s``). Each event gets its own snapshot: the frame with
    its most confident evidence, annotated.

    ``handle`` returns events ready for the sink: an ``open`` event with its first snapshot, and
    a ``close`` event only once its clip is finished, so every path a sink receives points at a
    complete file. ``update`` events pass straight through.
    """

    def __init__(
        self,
        media_dir: Path,
        *,
        fps: float = 15.0,
        pre_roll_s: float = 5.0,
        post_roll_s: float = 5.0,
        max_clip_s: float = 120.0,
        ring_extra_s: float = 6.0,
        jpeg_quality: int = 80,
    ) -> None:
        self.media_dir = media_dir
        self.fps = fps
        self.pre_roll_s = pre_roll_s
        self.post_roll_s = post_roll_s
        self.max_clip_s = max_clip_s
        # The event starts min_duration before it opens: keep that much more than the pre-roll.
        self.ring = FrameRing(pre_roll_s + ring_extra_s, jpeg_quality=jpeg_quality)
        self.packets = PacketRing(pre_roll_s + ring_extra_s)
        self._template: StreamTemplate | None = None  # set: clips by stream copy
        # A live source pushes packets from its reader thread while frames are handled on another.
        self._lock = threading.Lock()
        self._session: _Session | None = None
        self._recordings: dict[str, _Recording] = {}
        self._finished: dict[str, tuple[str | None, str | None]] = {}
        self.frames_encoded = 0
        # Media that could not be written (disk full, folder gone): one line each, newest last.
        # The events themselves still go to the sink, without that clip or snapshot.
        self.media_errors: deque[str] = deque(maxlen=100)

    @property
    def recording(self) -> bool:
        return self._session is not None

    @property
    def stream_copy(self) -> bool:
        """Clips are cut from the source's own packets (see ``start``), not re-encoded."""
        return self._template is not None

    # PacketTap: a source that can hand over its encoded packets makes clips by stream copy
    def start(self, stream: av.video.stream.VideoStream) -> None:
        """Use ``stream``'s packets for clips when browsers play them as they are.

        Called again when a live source reconnects (or a file loops): packets of the new
        connection have their own timestamps, so a clip being written ends at the break (the
        camera was away) and the next clip starts from the new connection's keyframes.
        """
        with self._lock:
            self.packets.clear()
            self._template = StreamTemplate(stream) if stream_copyable(stream) else None
            if self._session is not None and isinstance(self._session.writer, PacketClipWriter):
                self._session.writer.sealed = True

    def push(self, packet: EncodedPacket) -> None:
        with self._lock:
            if self._template is None:
                return
            self.packets.push(packet)
            session = self._session
            if session is not None and isinstance(writer := session.writer, PacketClipWriter):
                self._media_io(session, lambda: writer.write(packet))

    def handle(
        self,
        frame: Frame,
        events: Sequence[ViolationEvent],
        evidence: Sequence[Evidence] = (),
        wall: datetime | None = None,
    ) -> list[ViolationEvent]:
        """Record ``frame``, start/stop clips for ``events``; return events ready to emit."""
        with self._lock:
            return self._handle(frame, events, evidence, wall)

    def _handle(
        self,
        frame: Frame,
        events: Sequence[ViolationEvent],
        evidence: Sequence[Evidence],
        wall: datetime | None,
    ) -> list[ViolationEvent]:
        ready: list[ViolationEvent] = []
        for event in events:
            if event.phase is EventPhase.OPEN:
                self._start(frame, event)
            elif event.phase is EventPhase.CLOSE:
                ready.extend(self._stop(event, (event.ended_s or frame.ts_s) + self.post_roll_s))
            else:
                ready.append(event)
        for ev in evidence:
            self._offer_best(frame, ev, wall)
        ready.extend(self._with_snapshot(e) for e in events if e.phase is EventPhase.OPEN)
        if self._template is None:  # re-encode the decoded frames (no packets to copy)
            session = self._session
            if session is not None and isinstance(writer := session.writer, ClipWriter):
                self._media_io(session, lambda: writer.write(frame.ts_s, frame.image))
                self.frames_encoded += 1
            self.ring.push(frame)
        ready.extend(self._finish_due(frame.ts_s))
        return ready

    def close(self, closing: Sequence[ViolationEvent] = ()) -> list[ViolationEvent]:
        """Finalize the clip now (shutdown or end of input).

        ``closing`` are the events the rule engine closed at the same moment (its ``flush``);
        returns every event that is now complete with its media.
        """
        with self._lock:
            return self._close(closing)

    def _close(self, closing: Sequence[ViolationEvent]) -> list[ViolationEvent]:
        ready: list[ViolationEvent] = []
        for event in closing:
            ready.extend(self._stop(event, float("-inf")))
        ready.extend(self._finish_due(float("inf")))
        return ready

    def _stop(self, event: ViolationEvent, stop_s: float) -> list[ViolationEvent]:
        rec = self._recordings.get(event.id)
        if rec is None:  # its clip was already cut (max length): attach what was written
            clip, snap = self._finished.pop(event.id, (None, None))
            return [dataclasses.replace(event, clip_path=clip, snapshot_path=snap)]
        rec.stop_s = stop_s
        rec.closed_event = event
        return []

    def _start(self, frame: Frame, event: ViolationEvent) -> None:
        stem = f"{event.kind.value}-{event.started_s:08.2f}s-{event.id[:8]}"
        if self._session is None:
            path, since = self.media_dir / f"clip-{stem}.mp4", event.started_s - self.pre_roll_s
            self._session = self._open_session(path, since, frame.size_wh)
        self._session.members.append(event.id)
        self._recordings[event.id] = _Recording(event, self._session, self.media_dir / f"{stem}.jpg")

    def _open_session(self, path: Path, since: float, size_wh: tuple[int, int]) -> _Session:
        """A new clip file with the pre-roll from ``since`` already in it."""
        template = self._template
        try:
            writer = PacketClipWriter(path, template) if template else ClipWriter(path, size_wh, self.fps)
        except MEDIA_ERRORS as exc:
            return _Session(path, None, since, error=self._media_failed(f"clip {path}", exc))
        session = _Session(path, writer, since)

        def pre_roll() -> None:
            if isinstance(writer, PacketClipWriter):
                for p in self.packets.since(since):
                    writer.write(p)
            else:
                for ts, img in self.ring.since(since):
                    writer.write(ts, img)
                    self.frames_encoded += 1

        self._media_io(session, pre_roll)
        return session

    def _finish_file(self, session: _Session) -> Path | None:
        """The session's finished clip; None when it failed or got no frame (a copy that never
        saw a keyframe): then no half-written or empty file is left for a reviewer to open."""
        if session.writer is None:
            with contextlib.suppress(OSError):
                session.path.unlink(missing_ok=True)
            return None
        try:
            return session.writer.finish(keep=session.error is None)
        except MEDIA_ERRORS as exc:
            if session.error is None:
                session.error = self._media_failed(f"clip {session.path}", exc)
            return None

    def _media_io(self, session: _Session, action: Callable[[], None]) -> None:
        """One write to the session's clip; a failure is reported once and ends the clip."""
        if session.writer is None or session.error is not None:
            return
        try:
            action()
        except MEDIA_ERRORS as exc:
            session.error = self._media_failed(f"clip {session.path}", exc)

    def _media_failed(self, what: str, exc: BaseException) -> str:
        msg = f"{what} not written: {exc}"
        self.media_errors.append(msg)
        log.warning("%s (its events are kept without it)", msg)
        return msg

    def _offer_best(self, frame: Frame, ev: Evidence, wall: datetime | None) -> None:
        rec = self._recordings.get(ev.event_id)
        if rec is None or rec.closed_event is not None or ev.confidence <= rec.best_confidence:
            return
        rec.best_confidence = ev.confidence
        rec.best_image = frame.image.copy()
        rec.best_evidence = ev
        rec.best_ts = frame.ts_s
        rec.best_wall = wall

    def _write_snapshot(self, rec: _Recording, event: ViolationEvent) -> None:
        if rec.best_image is None or rec.best_evidence is None:
            return
        img = annotate(rec.best_image, event, rec.best_evidence, rec.best_ts, rec.best_wall)
        tmp = rec.snapshot.with_suffix(".tmp.jpg")
        try:
            rec.snapshot.parent.mkdir(parents=True, exist_ok=True)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            if not ok:
                raise OSError("JPEG encoding failed")
            tmp.write_bytes(buf.tobytes())
            tmp.replace(rec.snapshot)  # a reader never sees half a JPEG
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            self._media_failed(f"snapshot {rec.snapshot}", exc)

    def _with_snapshot(self, event: ViolationEvent) -> ViolationEvent:
        rec = self._recordings[event.id]
        self._write_snapshot(rec, event)
        has = rec.snapshot.exists()
        return dataclasses.replace(event, snapshot_path=str(rec.snapshot) if has else None)

    def _finish_due(self, ts_s: float) -> list[ViolationEvent]:
        session = self._session
        if session is None:
            return []
        recs = [self._recordings[i] for i in session.members]
        stops = [r.stop_s for r in recs]
        due = all(s is not None for s in stops) and ts_s >= max(s for s in stops if s is not None)
        if not (due or ts_s - session.start_s > self.max_clip_s):
            return []
        self._session = None
        kept = self._finish_file(session)
        clip = str(kept) if kept else None
        done: list[ViolationEvent] = []
        for rec in recs:
            del self._recordings[rec.event.id]
            event = rec.closed_event or rec.event
            self._write_snapshot(rec, event)
            snapshot = str(rec.snapshot) if rec.snapshot.exists() else None
            if rec.closed_event is None:
                # Still open (the clip hit its maximum length): the file is complete and kept;
                # the event's close will carry it.
                self._finished[rec.event.id] = (clip, snapshot)
            else:
                done.append(dataclasses.replace(event, clip_path=clip, snapshot_path=snapshot))
        return done
