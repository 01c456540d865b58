from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from streams.sources import (
    CameraSourceSpec,
    FileSource,
    RtspSource,
    SourceError,
    WebcamSource,
    infer_kind,
    open_source,
    redact,
    scrub,
)
from streams.testing import RtspServer, free_port
from vision.decode import EncodedPacket


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("rtsp://10.0.0.5:554/sub", "rtsp"),
        ("RTSPS://cam/main", "rtsp"),
        ("/dev/video0", "webcam"),
        ("v4l2:///dev/video2", "webcam"),
        ("sample_videos/a.mp4", "file"),
        ("file:///tmp/a.mp4", "file"),
    ],
)
def test_infer_kind(url: str, kind: str) -> None:
    assert infer_kind(url) == kind


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported camera URL scheme 'http'"):
        infer_kind("http://cam/video.mjpg")


def test_redact_hides_credentials() -> None:
    assert redact("rtsp://admin:secret@10.0.0.5:554/s") == "rtsp://***@10.0.0.5:554/s"
    assert redact("rtsp://10.0.0.5/s") == "rtsp://10.0.0.5/s"


def test_error_messages_never_carry_credentials() -> None:
    port = free_port()
    src = RtspSource("c1", f"rtsp://viewer:s3cret@127.0.0.1:{port}/main", open_timeout_s=2)
    with pytest.raises(SourceError) as err:
        src.open()
    assert "s3cret" not in str(err.value) and f"rtsp://***@127.0.0.1:{port}/main" in str(err.value)
    assert (
        scrub("open 'rtsp://a:b@h/x' and http://u@h2/y failed")
        == "open 'rtsp://***@h/x' and http://***@h2/y failed"
    )


def test_file_once_reads_every_frame_then_ends(pattern_clip: Path) -> None:
    src = open_source(CameraSourceSpec("c1", str(pattern_clip), realtime=False))
    src.open()
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    src.close()
    assert len(frames) == 90
    assert frames[0].image.shape == (360, 640, 3) and frames[0].image.dtype == np.uint8
    ts = [f.ts_s for f in frames]
    assert ts == sorted(ts) and ts[-1] == pytest.approx(89 / 15, abs=0.01)
    assert [f.index for f in frames] == list(range(90))


def test_file_loop_keeps_time_increasing(pattern_clip: Path) -> None:
    src = FileSource("c1", str(pattern_clip), loop=True)
    src.open()
    frames = [src.read() for _ in range(200)]
    src.close()
    ts = [f.ts_s for f in frames if f is not None]
    assert len(ts) == 200
    assert all(b > a for a, b in zip(ts, ts[1:], strict=False))
    assert ts[-1] == pytest.approx(199 / 15, abs=0.02)


class PacketLog:
    """A ``PacketTap`` that keeps what it is given."""

    def __init__(self) -> None:
        self.starts: list[str] = []
        self.packets: list[EncodedPacket] = []

    def start(self, stream: av.video.stream.VideoStream) -> None:
        self.starts.append(stream.codec_context.name)

    def push(self, packet: EncodedPacket) -> None:
        self.packets.append(packet)


def test_file_hands_its_packets_on_the_frames_clock_across_loops(pattern_clip: Path) -> None:
    src = FileSource("c1", str(pattern_clip), loop=True)
    tap = PacketLog()
    src.packet_tap = tap
    src.open()
    frames = [src.read() for _ in range(120)]  # 90 frames per pass: a loop in the middle
    src.close()
    assert tap.starts == ["h264", "h264"]  # once per opened stream
    stamps = {round(p.ts_s, 3) for p in tap.packets}
    # every frame was preceded by its own packet, stamped with the frame's timestamp
    assert all(round(f.ts_s, 3) in stamps for f in frames if f is not None)
    assert tap.packets[0].key and sum(p.key for p in tap.packets[:90]) >= 2
    with av.open(str(pattern_clip)) as box:
        first_pass = [bytes(p) for p in box.demux(video=0) if p.size]
    assert [p.data for p in tap.packets[:90]] == first_pass


def test_rtsp_hands_its_packets_on_the_frames_clock(rtsp_server: RtspServer) -> None:
    src = RtspSource("c1", rtsp_server.url("cam0"))
    tap = PacketLog()
    src.packet_tap = tap
    src.open()
    frames = [src.read() for _ in range(30)]
    src.close()
    assert tap.starts == ["h264"] and len(tap.packets) >= 30
    assert any(p.key for p in tap.packets)
    ts = [p.ts_s for p in tap.packets]
    assert ts == sorted(ts)
    last = frames[-1]
    assert last is not None and abs(last.ts_s - ts[-1]) < 0.5  # same clock (arrival time)


def test_realtime_file_is_paced_like_a_camera(pattern_clip: Path) -> None:
    src = FileSource("c1", str(pattern_clip), realtime=True)
    src.open()
    frames = [src.read() for _ in range(16)]
    src.close()
    walls = [f.wall_time for f in frames if f is not None and f.wall_time is not None]
    assert walls[-1] - walls[0] >= 15 / 15 - 0.05  # never faster than the clip's own clock


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        FileSource("c1", str(tmp_path / "nope.mp4")).open()


def test_not_a_video_is_a_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceError):
        FileSource("c1", str(bad)).open()


def test_missing_webcam_is_a_clear_error() -> None:
    device = "/dev/video97"
    assert not Path(device).exists()
    src = WebcamSource("c1", device)
    with pytest.raises(SourceError, match="does not exist"):
        src.open()
    assert src.probe() is False


def test_rtsp_reads_live_frames(rtsp_server: RtspServer) -> None:
    src = RtspSource("c1", rtsp_server.url("cam0"))
    src.open()
    frames = [src.read() for _ in range(20)]
    src.close()
    assert all(f is not None and f.image.shape == (360, 640, 3) for f in frames)
    ts = [f.ts_s for f in frames if f is not None]
    assert all(b > a for a, b in zip(ts, ts[1:], strict=False))
    assert src.nominal_fps == pytest.approx(15, abs=1)
    assert src.stream_lag_s is not None and src.stream_lag_s >= 0


def test_rtsp_refused_is_a_source_error() -> None:
    src = RtspSource("c1", f"rtsp://127.0.0.1:{free_port()}/x", open_timeout_s=3)
    with pytest.raises(SourceError, match="cannot open"):
        src.open()
    assert src.probe() is False


def test_rtsp_stall_is_noticed_by_the_read_timeout(rtsp_server: RtspServer) -> None:
    """A frozen server keeps the TCP connection open and sends nothing: the read must give up."""
    src = RtspSource("c1", rtsp_server.url("cam0"), read_timeout_s=3)
    src.open()
    assert src.read() is not None
    rtsp_server.pause()
    t0 = time.monotonic()
    with pytest.raises(SourceError):
        for _ in range(1000):  # frames already buffered come out first
            src.read()
    noticed_s = time.monotonic() - t0
    rtsp_server.resume()
    src.close()
    assert noticed_s < 10  # the bound on stall detection


def test_frames_nobody_wants_skip_the_colour_conversion(pattern_clip: Path) -> None:
    src = FileSource("c1", str(pattern_clip))
    src.wants_image = lambda ts: round(ts * 15) % 3 == 0
    src.open()
    frames = [src.read() for _ in range(9)]
    src.close()
    shapes = [f.image.shape for f in frames if f is not None]
    assert shapes == [(360, 640, 3), (0, 0, 3), (0, 0, 3)] * 3
    assert [f.index for f in frames if f is not None] == list(range(9))  # every frame still counted
