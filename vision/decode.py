"""Read video files into ``Frame`` values, with one clear error per way a file can be bad.

A regulator's upload or a camera export can be empty, cut off, not a video at all, in a codec we
cannot decode, or change resolution midway. Each case raises ``VideoError`` whose message is
one line naming the file and the cause; frames decoded before the fault have already been
yielded, so the caller keeps everything found up to there.

Example::

    try:
        for frame in read_frames(Path("kitchen.mp4"), camera_id="cam-1"):
            ...
    except VideoError as e:
        print(e)   # kitchen.mp4: truncated: 212 of 300 frames decoded
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol, cast

import av
import av.error
import cv2
import numpy as np
import numpy.typing as npt

from vision.types import Frame


class VideoError(Exception):
    """A video that cannot be (fully) read; ``str(e)`` is ``"<path>: <cause>"``."""

    def __init__(self, path: Path | str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = str(path)
        self.cause = cause
        self.result: object | None = None  # what was found before the fault (pipeline.FileResult)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int  # 0 when the container does not say
    codec: str


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One compressed video packet as the source holds it (for clips by stream copy).

    ``ts_s`` is on the same clock as the frames decoded from the source (``Frame.ts_s``);
    ``pts``/``dts`` are in the source stream's time base.
    """

    ts_s: float
    key: bool
    pts: int
    dts: int
    data: bytes


class PacketTap(Protocol):
    """Receives a source's encoded packets alongside its decoded frames.

    ``start`` is called once with the input stream (its codec parameters are the template for
    stream-copied clips), then ``push`` for every packet, before the frames decoded from it.
    """

    def start(self, stream: av.video.stream.VideoStream) -> None: ...

    def push(self, packet: EncodedPacket) -> None: ...


def _ffmpeg_cause(path: Path, err: Exception) -> str:
    msg = getattr(err, "strerror", None) or str(err)
    if _mp4_without_index(path):
        return "truncated or unfinished MP4 (no moov index)"
    return f"not a readable video ({msg})"


def _mp4_without_index(path: Path) -> bool:
    """An MP4/MOV (``ftyp`` first) whose top-level boxes hold no ``moov``: cut off while written."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[4:8] != b"ftyp":
            return False
        size, pos, total = int.from_bytes(head[:4], "big"), 0, path.stat().st_size
        while 8 <= size and pos + size <= total:
            pos += size
            f.seek(pos)
            box = f.read(16)
            if len(box) < 8:
                break
            if box[4:8] == b"moov":
                return False
            size = int.from_bytes(box[:4], "big")
            if size == 1 and len(box) == 16:
                size = int.from_bytes(box[8:16], "big")
        return True


def probe(path: Path) -> VideoInfo:
    """Open ``path`` just to check it and read its size, rate and codec."""
    container = _open(path)
    try:
        stream = _video_stream(container, path)
        return _info(stream)
    finally:
        container.close()


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise VideoError(path, "file not found")
    if path.is_dir():
        raise VideoError(path, "is a directory, not a video file")
    if path.stat().st_size == 0:
        raise VideoError(path, "empty file (0 bytes)")
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as e:
        raise VideoError(path, _ffmpeg_cause(path, e)) from e


def _video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise VideoError(path, "no video stream (audio or data only)")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None or ctx.codec is None or not ctx.codec.is_decoder:
        name = ctx.name if ctx is not None else "unknown"
        raise VideoError(path, f"unsupported video codec '{name}' (no decoder in this FFmpeg build)")
    if not ctx.width or not ctx.height:
        raise VideoError(path, f"video stream '{ctx.name}' has no frame size (damaged header)")
    return stream


def _info(stream: av.video.stream.VideoStream) -> VideoInfo:
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    fps = float(rate) if rate else 15.0
    ctx = stream.codec_context
    return VideoInfo(int(ctx.width), int(ctx.height), fps, int(stream.frames or 0), ctx.name)


# limited ("TV", 16-235) luma to full range, as the BT.601 YUV -> BGR -> grey round trip gives
_TV_TO_FULL = np.clip((np.arange(256) - 16) * 255 / 219 + 0.5, 0, 255).astype(np.uint8)
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG
# formats whose first plane is the luma plane
_PLANAR_YUV = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"})


class AvPicture:
    """A decoded PyAV frame as a ``vision.types.Picture``: BGR on demand, luma from its Y plane.

    Converting to BGR costs ~0.4-0.8 ms per 640x360 frame, about as much as decoding it; the
    motion gate needs only the luma plane (~0.06 ms with the range fixed), so the frames it
    turns away never pay for colour.
    """

    __slots__ = ("_vf",)

    def __init__(self, vf: av.VideoFrame) -> None:
        self._vf = vf

    @property
    def width(self) -> int:
        return int(self._vf.width)

    @property
    def height(self) -> int:
        return int(self._vf.height)

    def bgr(self) -> npt.NDArray[np.uint8]:
        return np.ascontiguousarray(self._vf.to_ndarray(format="bgr24"))

    def grey(self) -> npt.NDArray[np.uint8]:
        vf = self._vf
        if vf.format.name not in _PLANAR_YUV:
            return cast(npt.NDArray[np.uint8], cv2.cvtColor(self.bgr(), cv2.COLOR_BGR2GRAY))
        plane = vf.planes[0]
        y = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)[: vf.height, : vf.width]
        if int(vf.color_range) == _FULL_RANGE or vf.format.name.startswith("yuvj"):
            return np.ascontiguousarray(y)
        return cast(npt.NDArray[np.uint8], cv2.LUT(y, _TV_TO_FULL))


def read_frames(
    path: Path, *, camera_id: str, info: VideoInfo | None = None, tap: PacketTap | None = None
) -> Iterator[Frame]:
    """Decode every frame; raise ``VideoError`` on the first fault (after what came before).

    Each frame is converted to BGR on the first use of its ``image`` (see ``AvPicture``).

    ``ts_s`` is the presentation time from the stream start (falls back to index / fps).
    A frame whose size differs from the first one is a fault: the pipeline's zones,
    tracks and clips all assume one geometry per camera. ``tap``, if given, also receives every
    encoded packet (see ``PacketTap``).
    """
    container = _open(path)
    try:
        stream = _video_stream(container, path)
        info = info or _info(stream)
        stream.thread_type = "AUTO"
        if tap is not None:
            tap.start(stream)
        yield from _decode(container, stream, path, camera_id, info, tap)
    finally:
        container.close()


def encoded_packet(pkt: av.Packet, ts_s: Callable[[int], float]) -> EncodedPacket | None:
    """``pkt`` as an ``EncodedPacket`` stamped ``ts_s(pts)``; None for a flush or empty packet."""
    if pkt.pts is None or pkt.size == 0:
        return None
    pts = int(pkt.pts)
    dts = int(pkt.dts) if pkt.dts is not None else pts
    return EncodedPacket(ts_s(pts), bool(pkt.is_keyframe), pts, dts, bytes(pkt))


def _decode(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    path: Path,
    camera_id: str,
    info: VideoInfo,
    tap: PacketTap | None = None,
) -> Iterator[Frame]:
    index = 0
    t0: float | None = None
    time_base = stream.time_base or Fraction(1, 90000)
    pts0 = int(stream.start_time) if stream.start_time is not None else None

    def seconds(pts: int) -> float:  # on the frames' clock: from the stream's start
        return round(float((pts - (pts0 or 0)) * time_base), 6)

    try:
        for pkt in container.demux(stream):
            if tap is not None:
                if pts0 is None and pkt.pts is not None:
                    pts0 = int(pkt.pts)
                encoded = encoded_packet(pkt, seconds)
                if encoded is not None:
                    tap.push(encoded)
            for vf in pkt.decode():
                if vf.width != info.width or vf.height != info.height:
                    raise VideoError(
                        path, f"frame {index} is {vf.width}x{vf.height}, expected {info.width}x{info.height}"
                    )
                t = vf.time if vf.time is not None else index / info.fps
                t0 = t if t0 is None else t0
                yield Frame(camera_id, round(t - t0, 6), index=index, picture=AvPicture(vf))
                index += 1
    except av.error.FFmpegError as e:
        raise VideoError(path, f"corrupt data after frame {index} ({getattr(e, 'strerror', e)})") from e
    if index == 0:
        raise VideoError(path, "no decodable frames")
    if info.frames and index < info.frames - 1:
        raise VideoError(path, f"truncated: {index} of {info.frames} frames decoded")
