"""Main-stream clips: detection on the sub-stream, evidence cut from the main stream by stream copy."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest

from streams.config import ConfigError, parse_config
from streams.runtime import Runtime
from streams.sinks import CollectingSink
from streams.sources import FileSource
from streams.testing import RtspServer, make_pattern_clip
from tests.vision.conftest import assert_browser_clip, rodent_event
from vision.clips import ClipRecorder
from vision.kinds import ViolationKind
from vision.rules import Evidence
from vision.types import EventPhase, ViolationEvent

from .conftest import wait_for


def test_tamper_event_gets_a_playable_main_stream_clip(tmp_path: Path, gst_ok: bool) -> None:
    sub = make_pattern_clip(tmp_path / "sub.mp4", seconds=10, covered_from_s=4)
    main = make_pattern_clip(tmp_path / "main.mp4", seconds=10, covered_from_s=4, size_wh=(960, 540))
    with RtspServer({"sub": sub, "main": main}) as server:
        cfg = parse_config(
            {
                "sites": [
                    {
                        "id": "s1",
                        "cameras": [
                            {"id": "cam0", "url": server.url("sub"), "record_url": server.url("main")}
                        ],
                    }
                ],
                "http": {"enabled": False},
                "media_dir": str(tmp_path / "media"),
            }
        )
        sink = CollectingSink()
        rt = Runtime(cfg, sink=sink)
        rt.start()
        try:

            def closed() -> list:  # type: ignore[type-arg]
                return [
                    e
                    for e in sink.snapshot()
                    if e.kind is ViolationKind.CAMERA_TAMPERED and e.phase is EventPhase.CLOSE
                ]

            wait_for(closed, 40, 0.2)
        finally:
            rt.stop()
    event = closed()[0]
    assert event.clip_path is not None and event.clip_path.endswith("-main.mp4")
    clip = Path(event.clip_path)
    assert clip.parent == tmp_path / "media" / "s1" / "cam0"
    data = clip.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: a browser can start playing at once
    with av.open(str(clip)) as box:
        stream = box.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (960, 540)
        frames = list(box.decode(stream))
    assert event.ended_s is not None
    seconds = len(frames) / 15
    assert seconds >= (event.ended_s - event.started_s) + 4  # the event plus most of pre/post-roll
    assert frames[0].to_ndarray(format="gray").std() > 20  # starts before the lens was covered
    assert frames[len(frames) // 2].to_ndarray(format="gray").std() < 10  # covered in the middle
    assert [e.phase for e in sink.snapshot() if e.id == event.id] == [EventPhase.OPEN, EventPhase.CLOSE]


@pytest.mark.parametrize(
    ("url", "ok"), [("rtsp://h/x", True), ("clip.mp4", True), ("http://h/x.mjpg", False)]
)
def test_record_url_is_validated_like_the_detect_url(url: str, ok: bool) -> None:
    raw = {"sites": [{"id": "s", "cameras": [{"id": "c", "url": "a.mp4", "record_url": url}]}]}
    if ok:
        assert parse_config(raw).cameras()[0][1].record_url == url
    else:
        with pytest.raises(ConfigError, match="record_url"):
            parse_config(raw)


def test_a_reconnect_during_an_event_ends_its_stream_copied_clip_at_the_break(tmp_path: Path) -> None:
    """The detect stream feeds the clip recorder (``copy_clips``). When the source reconnects (a
    looping file stands in for a camera that came back), the packets of the new connection have
    their own timestamps: the clip being written ends at the break, stays playable, and the event
    still gets it when it closes."""
    clip_file = make_pattern_clip(tmp_path / "cam.mp4", seconds=6.0)  # 90 frames, keyframe each 1 s
    recorder = ClipRecorder(tmp_path / "media", fps=15.0, pre_roll_s=2.0, post_roll_s=2.0)
    source = FileSource("cam", str(clip_file), loop=True)
    source.packet_tap = recorder
    source.open()
    ready: list[ViolationEvent] = []
    script = {60: rodent_event(EventPhase.OPEN, 4.0), 120: rodent_event(EventPhase.CLOSE, 4.0, 8.0)}
    for i in range(200):  # 4 s into the file: open; the file loops at 6 s; 8 s: close
        frame = source.read()
        assert frame is not None
        evidence = (
            [Evidence("e1", 0.9, (10.0, 10.0, 40.0, 40.0), (10.0, 10.0, 40.0, 40.0))] if i == 65 else []
        )
        ready += recorder.handle(frame, [script[i]] if i in script else [], evidence)
    source.close()
    ready += recorder.close()
    assert recorder.stream_copy and recorder.frames_encoded == 0
    (closed,) = [e for e in ready if e.phase is EventPhase.CLOSE]
    assert closed.clip_path is not None
    with av.open(closed.clip_path) as box:
        times = [f.time for f in box.decode(video=0) if f.time is not None]
    # from the keyframe at 2 s (start 4 s - 2 s pre-roll) to the end of the first pass (6 s)
    assert len(times) == 60 and times[-1] - times[0] == pytest.approx(59 / 15, abs=0.01)
    assert_browser_clip(Path(closed.clip_path), min_frames=60)


def test_runtime_keeps_events_when_clips_cannot_be_written_and_says_so(tmp_path: Path) -> None:
    """The media folder is unusable (a file sits where it should be): the camera's events still
    reach the sink, without clips, and ``GET /status`` names what could not be written."""
    from vision.synth.oracle import GroundTruthDetector

    sample = Path(__file__).resolve().parents[2] / "sample_videos" / "storage_rat_day.mp4"
    media = tmp_path / "media"
    media.write_text("not a folder")
    cam = {"id": "cam", "url": str(sample), "realtime": False, "detect_fps": 15}
    cfg = parse_config(
        {"sites": [{"id": "s1", "cameras": [cam]}], "http": {"enabled": False}, "media_dir": str(media)}
    )
    sink = CollectingSink()
    rt = Runtime(cfg, sink=sink, detector=GroundTruthDetector(sample))
    rt.start()
    try:
        wait_for(lambda: rt.workers["cam"].finished, 60, 0.2)
        status = rt.status()
    finally:
        rt.stop()
    closed = [e for e in sink.snapshot() if e.phase is EventPhase.CLOSE and e.kind is ViolationKind.RODENT]
    assert closed and all(e.clip_path is None and e.snapshot_path is None for e in closed)
    cams = status["cameras"]
    assert isinstance(cams, dict)
    assert f"{media}/s1/cam/" in cams["cam"]["media_error"] and "not written" in cams["cam"]["media_error"]


def test_main_stream_clip_that_cannot_be_written_is_reported_not_fatal(tmp_path: Path) -> None:
    from streams.health import Backoff
    from streams.record import RecordTap

    main = make_pattern_clip(tmp_path / "main.mp4", seconds=4)
    media = tmp_path / "media"
    media.write_text("not a folder")
    tap = RecordTap("cam", str(main), media)
    tap._read_session(Backoff())  # the whole file into the packet ring, in this thread
    started = rodent_event(EventPhase.OPEN, 2.0)
    started.started_wall = time.time()
    assert tap.begin(started) is False  # no clip: the event goes on with the pipeline's own
    assert not tap.holds(started.id)
    assert tap.last_error is not None and f"main-stream clip {media}/rodent-" in tap.last_error
    assert "not written" in tap.last_error and media.read_text() == "not a folder"
