"""Frame sources: a file, an RTSP stream or a USB webcam behind one small protocol.

A source does one thing: hand out decoded ``vision.types.Frame`` values, or raise
``SourceError`` when it cannot. Reconnecting, backoff and health live in ``streams.health`` and
``streams.worker`` so every source kind survives drops the same way.

Timestamps: a file's frames carry their presentation time (plus the loop offset when looping);
live sources carry seconds on the monotonic clock since the source object was built, so ``ts_s``
keeps increasing across reconnects and the rule engine never sees time run backwards.

File and RTSP sources also hand every encoded packet to ``packet_tap`` when one is set (the
camera pipeline's clip recorder, ``copy_clips``), stamped on the same clock as the frames, so
clips are cut from the camera's own H.264 at its full frame rate without an encoder.

Example::

    src = open_source(CameraSourceSpec(camera_id="cam-1", url="rtsp://127.0.0.1:8554/cam"))
    src.open()
    frame = src.read()  # Frame, or None at the end of a file played once
    src.close()
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import av
import av.container
import cv2
import numpy as np
import numpy.typing as npt

from vision.decode import PacketTap, encoded_packet
from vision.types import Frame

NO_IMAGE: npt.NDArray[np.uint8] = np.zeros((0, 0, 3), dtype=np.uint8)
"""Image of a frame nobody asked pixels for (see ``wants_image``): it never leaves the worker."""

ImageFilter = Callable[[float], bool]


def _bgr(vf: av.VideoFrame, ts_s: float, wants: ImageFilter | None) -> npt.NDArray[np.uint8]:
    """Convert to BGR only when wanted: the conversion costs as much as decoding (~0.6 ms)."""
    if wants is not None and not wants(ts_s):
        return NO_IMAGE
    return np.asarray(vf.to_ndarray(format="bgr24"), dtype=np.uint8)


_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@'\"]+@")


def scrub(text: str) -> str:
    """Remove ``user:password@`` from every URL inside a message (FFmpeg errors quote the URL)."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


class SourceError(RuntimeError):
    """The source cannot give frames now (refused, stalled, broken stream, missing device).

    The message never carries camera credentials: it is shown on status pages and in logs.
    """

    def __init__(self, message: str) -> None:
        super().__init__(scrub(message))


@runtime_checkable
class FrameSource(Protocol):
    """What a camera worker needs from a stream: open, read frames, close.

    ``read`` returns ``None`` only when a finite source has ended for good (a file played once).
    ``probe`` is a cheap reachability check used while waiting to reconnect; ``None`` = unknown.
    The built-in sources also take ``wants_image(ts_s) -> bool``: frames it declines come with
    ``NO_IMAGE`` (counted and timed, never converted), which saves a colour conversion per frame.
    """

    camera_id: str
    nominal_fps: float | None

    def open(self) -> None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...

    def probe(self) -> bool | None: ...


@dataclass(frozen=True, slots=True)
class CameraSourceSpec:
    """Everything needed to build a source; ``kind`` is inferred from the URL when empty."""

    camera_id: str
    url: str
    kind: str = ""  # "file" | "rtsp" | "webcam"
    loop: bool = False
    realtime: bool = False
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    webcam_size_wh: tuple[int, int] | None = None


def infer_kind(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if scheme in ("v4l2", "webcam") or url.startswith("/dev/video"):
        return "webcam"
    if scheme in ("", "file"):
        return "file"
    raise ValueError(
        f"unsupported camera URL scheme {scheme!r} in {url!r} (use rtsp://, a file path or /dev/videoN)"
    )


def open_source(spec: CameraSourceSpec) -> FrameSource:
    kind = spec.kind or infer_kind(spec.url)
    if kind == "file":
        return FileSource(spec.camera_id, spec.url, loop=spec.loop, realtime=spec.realtime)
    if kind == "rtsp":
        return RtspSource(
            spec.camera_id, spec.url, open_timeout_s=spec.open_timeout_s, read_timeout_s=spec.read_timeout_s
        )
    if kind == "webcam":
        return WebcamSource(spec.camera_id, spec.url, size_wh=spec.webcam_size_wh)
    raise ValueError(f"unknown source kind {kind!r} (file, rtsp or webcam)")


class _PyAvDecoder:
    """A demux+decode loop over one PyAV container, single-threaded to keep CPU per camera low.

    With a ``tap`` (the camera pipeline's clip recorder), every encoded packet is handed over
    before the frames decoded from it, stamped by ``packet_ts`` on the source's own clock: clips
    are then cut from the camera's packets at its full frame rate, with no encoder.
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        tap: PacketTap | None,
        packet_ts: Callable[[int], float],
    ) -> None:
        if not container.streams.video:
            container.close()
            raise SourceError("no video stream in the source")
        self.container = container
        self.stream = container.streams.video[0]
        self.stream.thread_count = 1
        self.tap = tap
        self.packet_ts = packet_ts
        if tap is not None:
            tap.start(self.stream)
        self._frames: Iterator[av.VideoFrame] = self._decode()

    def _decode(self) -> Iterator[av.VideoFrame]:
        for pkt in self.container.demux(self.stream):
            if self.tap is not None:
                encoded = encoded_packet(pkt, self.packet_ts)
                if encoded is not None:
                    self.tap.push(encoded)
            yield from pkt.decode()

    @property
    def fps(self) -> float | None:
        rate = self.stream.average_rate or self.stream.guessed_rate
        return float(rate) if rate else None

    def next(self) -> av.VideoFrame | None:
        try:
            return next(self._frames)
        except StopIteration:
            return None
        except (av.FFmpegError, OSError) as exc:  # timeouts and broken streams alike
            raise SourceError(f"decode failed: {exc}") from exc

    def close(self) -> None:
        try:
            self.container.close()
        except (av.FFmpegError, OSError):  # pragma: no cover - closing a broken stream
            pass


class FileSource:
    """A video file, played once or looped, optionally paced at its own frame rate.

    Pacing (``realtime=True``) makes a file behave like a camera for the runtime and tests:
    a slow consumer then drops frames instead of slowing the "camera" down.
    """

    def __init__(self, camera_id: str, path: str, *, loop: bool = False, realtime: bool = False) -> None:
        self.camera_id = camera_id
        self.path = Path(path.removeprefix("file://"))
        self.loop = loop
        self.realtime = realtime
        self.nominal_fps: float | None = None
        self.wants_image: ImageFilter | None = None
        self.packet_tap: PacketTap | None = None  # gets the encoded packets too (clips by stream copy)
        self._dec: _PyAvDecoder | None = None
        self._offset_s = 0.0
        self._last_ts = 0.0
        self._index = 0
        self._t0 = 0.0

    def open(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"video file not found: {self.path}")
        try:
            self._dec = self._decoder()
        except av.FFmpegError as exc:
            raise SourceError(f"cannot open {self.path}: {exc}") from exc
        self.nominal_fps = self._dec.fps
        self._t0 = time.monotonic() - self._last_ts if self.realtime else 0.0

    def _decoder(self) -> _PyAvDecoder:
        container = av.open(str(self.path))
        tb = container.streams.video[0].time_base if container.streams.video else None
        offset = self._offset_s  # packets on the frames' clock: loop offset + presentation time
        return _PyAvDecoder(container, self.packet_tap, lambda pts: offset + float(pts * (tb or 0)))

    def read(self) -> Frame | None:
        if self._dec is None:
            raise SourceError("source is not open")
        vf = self._dec.next()
        if vf is None and self.loop and self._index > 0:
            self._offset_s = self._last_ts + 1.0 / (self.nominal_fps or 15.0)
            self._dec.close()
            self._dec = self._decoder()
            vf = self._dec.next()
        if vf is None:
            return None
        ts = self._offset_s + float(vf.time or 0.0)
        self._last_ts = ts
        if self.realtime:
            delay = self._t0 + ts - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        frame = Frame(
            self.camera_id,
            ts,
            _bgr(vf, ts, self.wants_image),
            self._index,
            time.time(),
        )
        self._index += 1
        return frame

    def close(self) -> None:
        if self._dec is not None:
            self._dec.close()
            self._dec = None

    def probe(self) -> bool | None:
        return self.path.is_file()


class RtspSource:
    """An RTSP camera through FFmpeg (PyAV) over TCP.

    Two timeouts notice a stalled stream after about ``read_timeout_s`` (at most 10 s by config):
    FFmpeg's socket I/O ``timeout`` option (microseconds) and PyAV's interrupt callback
    ``timeout=(open, read)`` which aborts a blocked read. A dead server usually shows up at once
    as a closed TCP connection.
    """

    def __init__(
        self, camera_id: str, url: str, *, open_timeout_s: float = 5.0, read_timeout_s: float = 5.0
    ) -> None:
        self.camera_id = camera_id
        self.url = url
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.nominal_fps: float | None = None
        self.wants_image: ImageFilter | None = None
        self.packet_tap: PacketTap | None = None  # gets the encoded packets too (clips by stream copy)
        self._dec: _PyAvDecoder | None = None
        self._clock0 = time.monotonic()
        self._index = 0
        self._min_offset: float | None = None
        self.stream_lag_s: float | None = None  # reading behind the stream's clock, this session

    def open(self) -> None:
        self._min_offset = None
        # FFmpeg's RTSP reader waits for a second timeout period before it gives up (measured:
        # a 5 s setting reports after 10 s), so each is set to half the stall budget.
        half_s = self.read_timeout_s / 2
        options = {
            "rtsp_transport": "tcp",
            "timeout": str(int(half_s * 1_000_000)),
            "fflags": "nobuffer",
            "flags": "low_delay",
        }
        try:
            container = av.open(self.url, options=options, timeout=(self.open_timeout_s, half_s))
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open {redact(self.url)}: {exc}") from exc
        clock0 = self._clock0  # packets on the frames' clock: seconds since this source was built
        self._dec = _PyAvDecoder(container, self.packet_tap, lambda _pts: time.monotonic() - clock0)
        self.nominal_fps = self._dec.fps

    def read(self) -> Frame | None:
        if self._dec is None:
            raise SourceError("source is not open")
        vf = self._dec.next()
        if vf is None:  # a live stream does not end: the server went away
            raise SourceError("stream ended (server closed the connection)")
        self._track_lag(vf)
        ts = time.monotonic() - self._clock0
        frame = Frame(self.camera_id, ts, _bgr(vf, ts, self.wants_image), self._index, time.time())
        self._index += 1
        return frame

    def _track_lag(self, vf: av.VideoFrame) -> None:
        """Arrival time minus stream time, relative to the best seen: grows when reading falls behind."""
        if vf.time is None:
            return
        offset = time.monotonic() - float(vf.time)
        if self._min_offset is None or offset < self._min_offset:
            self._min_offset = offset
        self.stream_lag_s = offset - self._min_offset

    def close(self) -> None:
        if self._dec is not None:
            self._dec.close()
            self._dec = None

    def probe(self) -> bool | None:
        """A TCP connect to the server: cheap enough to try every second while it is down."""
        parts = urlsplit(self.url)
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 554), timeout=1.0):
                return True
        except OSError:
            return False


class WebcamSource:
    """A USB webcam through OpenCV's V4L2 backend (``/dev/videoN`` or ``v4l2:///dev/videoN``)."""

    def __init__(self, camera_id: str, device: str, *, size_wh: tuple[int, int] | None = None) -> None:
        self.camera_id = camera_id
        self.device = device.removeprefix("v4l2://").removeprefix("webcam://")
        self.size_wh = size_wh
        self.nominal_fps: float | None = None
        self.wants_image: ImageFilter | None = None
        self._cap: cv2.VideoCapture | None = None
        self._clock0 = time.monotonic()
        self._index = 0

    def open(self) -> None:
        if not Path(self.device).exists():
            raise SourceError(f"webcam device {self.device} does not exist (is the camera plugged in?)")
        cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open webcam {self.device} through V4L2 (busy or no permission?)")
        if self.size_wh:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size_wh[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size_wh[1])
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.nominal_fps = float(fps) if fps and fps > 0 else None
        self._cap = cap

    def read(self) -> Frame | None:
        if self._cap is None:
            raise SourceError("source is not open")
        if not self._cap.grab():  # grab, then decode only the frames someone wants
            raise SourceError(f"webcam {self.device} returned no frame (unplugged?)")
        ts = time.monotonic() - self._clock0
        image = NO_IMAGE
        if self.wants_image is None or self.wants_image(ts):
            ok, raw = self._cap.retrieve()
            if not ok or raw is None:
                raise SourceError(f"webcam {self.device} returned a frame that does not decode")
            image = np.ascontiguousarray(raw, dtype=np.uint8)
        frame = Frame(self.camera_id, ts, image, self._index, time.time())
        self._index += 1
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def probe(self) -> bool | None:
        return Path(self.device).exists()


def redact(url: str) -> str:
    """Hide credentials in a camera URL before it reaches a log or a status page."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=f"***@{host}").geturl()
