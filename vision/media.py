"""Clip files and the rings that feed them: how evidence video reaches the disk.

Two writers share one contract (``ClipFile``): ``PacketClipWriter`` copies a source's own H.264
packets (stream copy: no encoder, no quality loss), ``ClipWriter`` encodes decoded frames with
libx264 when the source's packets cannot be copied. Their pre-roll comes from ``PacketRing``
(whole GOPs of encoded packets) or ``FrameRing`` (JPEG-compressed frames, ~30 kB for 640x360
instead of ~700 kB raw). ``vision.clips`` decides which event gets which clip; ``streams.record``
uses the packet pieces for main-stream clips.
"""

from __future__ import annotations

import contextlib
import io
from collections import deque
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import cv2
import numpy as np
import numpy.typing as npt

from vision.decode import EncodedPacket
from vision.types import Frame

MEDIA_ERRORS = (OSError, av.FFmpegError)  # a full or failing disk, a muxer that gives up


class FrameRing:
    """The last ``seconds`` of frames as JPEG bytes (pre-roll for clips that start later)."""

    def __init__(self, seconds: float, *, jpeg_quality: int = 80) -> None:
        self.seconds = seconds
        self.jpeg_quality = jpeg_quality
        self._items: deque[tuple[float, bytes]] = deque()

    def push(self, frame: Frame) -> None:
        ok, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ValueError(f"cannot JPEG-encode frame {frame.index} of {frame.camera_id}")
        self._items.append((frame.ts_s, buf.tobytes()))
        while self._items and frame.ts_s - self._items[0][0] > self.seconds:
            self._items.popleft()

    def since(self, ts_s: float) -> list[tuple[float, npt.NDArray[np.uint8]]]:
        """Decoded frames with ``ts >= ts_s``, oldest first."""
        out: list[tuple[float, npt.NDArray[np.uint8]]] = []
        for ts, data in self._items:
            if ts >= ts_s:
                img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
                out.append((ts, cast(npt.NDArray[np.uint8], img)))
        return out

    @property
    def nbytes(self) -> int:
        return sum(len(d) for _, d in self._items)

    def __len__(self) -> int:
        return len(self._items)


class PacketRing:
    """The last ``seconds`` of a source's encoded packets, whole GOPs (pre-roll by stream copy).

    Packets are kept per group of pictures, so the keyframe a clip must start from is never
    dropped while any packet of the window still needs it: the ring holds ``seconds`` plus at
    most one GOP.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._gops: deque[list[EncodedPacket]] = deque()

    def push(self, packet: EncodedPacket) -> None:
        if packet.key or not self._gops:
            self._gops.append([])
        self._gops[-1].append(packet)
        horizon = packet.ts_s - self.seconds
        while len(self._gops) > 1 and self._gops[1][0].ts_s <= horizon:
            self._gops.popleft()

    def clear(self) -> None:
        self._gops.clear()

    def since(self, ts_s: float) -> list[EncodedPacket]:
        """Packets from the last keyframe at or before ``ts_s`` (else the first one) to now."""
        keyed = [g for g in self._gops if g[0].key]
        if not keyed:
            return []
        start = next((g for g in reversed(keyed) if g[0].ts_s <= ts_s), keyed[0])
        out: list[EncodedPacket] = []
        for gop in self._gops:
            if out or gop is start:
                out.extend(gop)
        return out

    @property
    def last_ts_s(self) -> float:
        """Time of the newest packet (0.0 when empty)."""
        return self._gops[-1][-1].ts_s if self._gops else 0.0

    @property
    def nbytes(self) -> int:
        return sum(len(p.data) for g in self._gops for p in g)

    def __len__(self) -> int:
        return sum(len(g) for g in self._gops)

    def __bool__(self) -> bool:
        return bool(self._gops)


class StreamTemplate:
    """A private copy of an input stream's codec parameters, to create clip streams from.

    An input stream's parameters live in its container and are freed when that closes (a camera
    drops, a file ends); a clip may start after that, from packets already in the ring. So the
    parameters are copied at once into a stream of an output container that is never written.
    """

    def __init__(self, stream: av.video.stream.VideoStream) -> None:
        self._box = av.open(io.BytesIO(), mode="w", format="mp4")
        self.stream = self._box.add_stream_from_template(stream)


def stream_copyable(stream: av.video.stream.VideoStream) -> bool:
    """Whether clips may copy this stream's packets as they are: H.264 in 4:2:0, which every
    browser plays; anything else (HEVC, MJPEG, 4:2:2...) is re-encoded."""
    ctx = stream.codec_context
    return ctx is not None and ctx.name == "h264" and ctx.pix_fmt in ("yuv420p", "yuvj420p")


class ClipFile:
    """An MP4 being written for browsers (faststart: ``moov`` before ``mdat``).

    ``close`` makes it playable; ``finish`` closes it and keeps it only when it is complete and
    holds frames, removing it otherwise, so no half-written or empty file is left to review.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(path), mode="w", options={"movflags": "+faststart"})
        self.frames = 0
        self.closed = False

    def _flush(self) -> None:
        """What must reach the file before its index (an encoder's delayed frames)."""

    def close(self) -> None:
        """Write the index; the file is playable after this returns."""
        if self.closed:
            return
        self.closed = True
        self._flush()
        self._container.close()

    def finish(self, *, keep: bool = True) -> Path | None:
        """Close; the path when ``keep`` and the file holds frames, else remove it and None.

        A close that fails (disk full) removes the file too, then raises."""
        try:
            self.close()
        except MEDIA_ERRORS:
            keep = False
            raise
        finally:
            if not (keep and self.frames):
                with contextlib.suppress(OSError):
                    self.path.unlink(missing_ok=True)
        return self.path if keep and self.frames else None


class PacketClipWriter(ClipFile):
    """One MP4 written by stream copy: no encoder, no quality loss, next to no CPU.

    The file starts at the first keyframe it is given; timestamps are rebased to it, and a
    packet that does not move decoding time forward (a repeat after a reconnect) is dropped.
    """

    def __init__(self, path: Path, template: StreamTemplate) -> None:
        super().__init__(path)
        self._stream = self._container.add_stream_from_template(template.stream)
        self._time_base = template.stream.time_base
        self._base: int | None = None
        self._last_dts: int | None = None
        self.sealed = False  # the source reconnected: packets from now on belong to another stream

    def write(self, p: EncodedPacket) -> None:
        if self.sealed or self.closed:
            return
        if self._base is None:
            if not p.key:
                return  # a clip starts on a keyframe
            self._base = p.dts
        dts = p.dts - self._base
        if self._last_dts is not None and dts <= self._last_dts:
            return
        pkt = av.Packet(p.data)
        pkt.pts, pkt.dts = p.pts - self._base, dts
        pkt.time_base = self._time_base
        pkt.is_keyframe = p.key
        pkt.stream = self._stream
        self._container.mux(pkt)
        self._last_dts = dts
        self.frames += 1


class ClipWriter(ClipFile):
    """One H.264 MP4 file; timestamps in ms from the first frame, so gaps and jitter are kept."""

    def __init__(
        self, path: Path, size_wh: tuple[int, int], fps: float, *, preset: str = "ultrafast"
    ) -> None:
        super().__init__(path)
        self.width, self.height = size_wh[0] // 2 * 2, size_wh[1] // 2 * 2  # yuv420p needs even sizes
        stream = self._container.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": preset, "crf": "27"}
        stream.codec_context.time_base = Fraction(1, 1000)
        self._stream = stream
        self._t0: float | None = None
        self._last_pts = -1

    def write(self, ts_s: float, image: npt.NDArray[np.uint8]) -> None:
        if self._t0 is None:
            self._t0 = ts_s
        pts = round((ts_s - self._t0) * 1000)
        if pts <= self._last_pts:
            return  # a repeated or out-of-order frame
        img = image[: self.height, : self.width]
        if img.shape[0] != self.height or img.shape[1] != self.width:
            img = cast(npt.NDArray[np.uint8], cv2.resize(image, (self.width, self.height)))
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
        frame.pts = pts
        frame.time_base = Fraction(1, 1000)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self.frames += 1

    def _flush(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
