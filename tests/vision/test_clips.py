"""Clips and snapshots: real MP4 files checked with ffprobe, pre/post-roll, shutdown finalization."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.vision.conftest import assert_browser_clip, draw_frame, rodent_event
from tests.webrtc import chromium_plays
from vision.clips import ClipRecorder, annotate
from vision.decode import EncodedPacket, read_frames
from vision.kinds import ViolationKind
from vision.media import FrameRing, PacketRing
from vision.rules import Evidence
from vision.types import EventPhase, Frame, ViolationEvent

FPS = 10.0
BOX = (100.0, 60.0, 160.0, 200.0)


def frame(i: int) -> Frame:
    x = 20 + 2 * i
    return Frame("cam", i / FPS, draw_frame([("rat", (x, 100, x + 30, 120))]), i)


def event(phase: EventPhase, start: float = 2.0, end: float | None = None) -> ViolationEvent:
    return rodent_event(phase, start, end, xyxy=BOX)


def test_ring_keeps_only_the_last_seconds_compressed() -> None:
    ring = FrameRing(2.0)
    for i in range(50):
        ring.push(frame(i))
    kept = ring.since(0.0)
    assert 1.9 <= kept[-1][0] - kept[0][0] <= 2.0
    assert kept[-1][0] == pytest.approx(4.9)
    assert ring.nbytes < len(kept) * 320 * 240 * 3 / 10  # JPEG, not raw
    assert kept[-1][1].shape == (240, 320, 3)


def test_packet_ring_keeps_the_keyframe_its_window_starts_from() -> None:
    ring = PacketRing(2.0)
    for i in range(50):  # 10 packets a second, a keyframe every 1.5 s
        ring.push(EncodedPacket(i / 10, i % 15 == 0, i, i, bytes([i])))
    # Now 4.9 s: the window starts at 2.9 s. Keyframes are at 0, 1.5, 3.0 and 4.5 s, so the
    # GOP that began at 1.5 s is still needed to decode 2.9 s, and 0-1.4 s is not.
    assert ring.since(float("-inf"))[0].ts_s == pytest.approx(1.5)
    assert len(ring) == 35
    got = ring.since(3.2)  # the clip must begin at the last keyframe at or before 3.2 s
    assert got[0].key and got[0].ts_s == pytest.approx(3.0)
    assert [p.dts for p in got] == list(range(30, 50))
    assert ring.since(4.6)[0].ts_s == pytest.approx(4.5)


def test_packet_ring_without_any_keyframe_gives_nothing_to_copy() -> None:
    ring = PacketRing(2.0)
    for i in range(5):
        ring.push(EncodedPacket(i / 10, False, i, i, b"x"))
    assert ring and ring.since(0.0) == []


SAMPLE = Path(__file__).resolve().parents[2] / "sample_videos" / "hot_kitchen_mixed.mp4"


def test_stream_copied_clip_of_a_sample_plays_in_chromium(tmp_path: Path) -> None:
    """The sample videos are H.264 High with B-frames, as camera exports often are: a clip
    copied from their packets must still play in a real browser, from its first frame."""
    rec = ClipRecorder(tmp_path, fps=15.0, pre_roll_s=2.0, post_roll_s=2.0)
    ready: list[ViolationEvent] = []
    script = {120: event(EventPhase.OPEN, start=7.0), 150: event(EventPhase.CLOSE, 7.0, 10.0)}
    for f in read_frames(SAMPLE, camera_id="cam", tap=rec):
        evs = [script[f.index]] if f.index in script else []
        evidence = [Evidence("e1", 0.9, BOX, BOX)] if f.index == 130 else []
        ready += rec.handle(f, evs, evidence)
    ready += rec.close()
    assert rec.stream_copy and rec.frames_encoded == 0
    (closed,) = [e for e in ready if e.phase is EventPhase.CLOSE]
    clip = Path(closed.clip_path or "")
    assert_browser_clip(clip, min_frames=15 * 8)
    size, duration = chromium_plays(clip, tmp_path)
    assert size == [640, 360]
    # keyframe at or before 7 - 2 = 5 s (one every 2 s) to 10 + 2 = 12 s
    assert 7.0 <= duration <= 9.5


def run_recorder(tmp_path: Path, n: int, script: dict[int, ViolationEvent], close_at_end: bool = True):
    rec = ClipRecorder(tmp_path, fps=FPS, pre_roll_s=1.0, post_roll_s=1.0)
    ready: list[ViolationEvent] = []
    for i in range(n):
        f = frame(i)
        evs = [script[i]] if i in script else []
        evidence = [Evidence("e1", 0.5 + 0.01 * i, BOX, (110.0, 60.0, 140.0, 90.0))] if 20 <= i <= 40 else []
        ready += rec.handle(f, evs, evidence)
    if close_at_end:
        ready += rec.close()
    return rec, ready


def test_clip_has_pre_and_post_roll_and_plays_in_browsers(tmp_path: Path) -> None:
    # event runs 2.0 .. 4.0 s, opens at 2.5 s (frame 25), closes at frame 45 (ended 4.0)
    script = {25: event(EventPhase.OPEN), 45: event(EventPhase.CLOSE, end=4.0)}
    rec, ready = run_recorder(tmp_path, 80, script, close_at_end=False)
    phases = [e.phase for e in ready]
    assert phases == [EventPhase.OPEN, EventPhase.CLOSE]
    opened, closed = ready
    assert opened.snapshot_path and Path(opened.snapshot_path).exists() and opened.clip_path is None
    assert closed.clip_path and Path(closed.clip_path).exists()
    video = assert_browser_clip(Path(closed.clip_path))
    # frames from 1.0 s (start - pre-roll) to 5.0 s (end + post-roll) at 10 fps
    assert int(video["nb_frames"]) == pytest.approx(41, abs=1)
    assert float(video["duration"]) == pytest.approx(4.0, abs=0.25)
    assert not rec.recording


def test_open_event_at_shutdown_gets_a_finalized_clip(tmp_path: Path) -> None:
    rec, ready = run_recorder(tmp_path, 35, {25: event(EventPhase.OPEN)}, close_at_end=False)
    closing = dataclasses.replace(event(EventPhase.CLOSE, end=3.4))
    done = rec.close([closing])
    assert [e.phase for e in done] == [EventPhase.CLOSE]
    clip = Path(done[0].clip_path or "")
    assert_browser_clip(clip, min_frames=20)
    assert done[0].snapshot_path and Path(done[0].snapshot_path).stat().st_size > 1000
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".jpg", ".mp4"]  # no temp files left


def test_a_media_folder_that_cannot_be_written_loses_no_event(tmp_path: Path) -> None:
    """The media path is taken by a file (a mount gone read-only or replaced behaves the same):
    no clip and no snapshot can be created, the events still come out, and each failure is
    reported once in one line naming the file."""
    blocked = tmp_path / "media"
    blocked.write_text("not a folder")
    script = {25: event(EventPhase.OPEN), 45: event(EventPhase.CLOSE, end=4.0)}
    rec, ready = run_recorder(blocked, 80, script)
    assert [e.phase for e in ready] == [EventPhase.OPEN, EventPhase.CLOSE]
    assert all(e.clip_path is None and e.snapshot_path is None for e in ready)
    errors = list(rec.media_errors)
    assert any(e.startswith(f"clip {blocked}/clip-rodent-") and "not written" in e for e in errors)
    assert any(e.startswith(f"snapshot {blocked}/rodent-") for e in errors)
    assert len([e for e in errors if e.startswith("clip ")]) == 1  # once per clip, not per frame
    assert not rec.recording and blocked.read_text() == "not a folder"


def test_a_copied_clip_that_never_saw_a_keyframe_is_not_left_empty(tmp_path: Path) -> None:
    """A camera that (re)connected mid-GOP and dropped again before its next keyframe: nothing
    decodable reached the clip, so the event gets no clip rather than an empty MP4."""
    rec = ClipRecorder(tmp_path, fps=FPS, pre_roll_s=1.0, post_roll_s=1.0)
    with av.open(str(SAMPLE)) as box:
        stream = box.streams.video[0]
        rec.start(stream)
        tb = stream.time_base
        later = [p for p in box.demux(stream) if p.size and p.pts is not None and not p.is_keyframe][:60]
        packets = [EncodedPacket(float(p.pts * tb), False, int(p.pts), int(p.dts), bytes(p)) for p in later]
    ready: list[ViolationEvent] = []
    script = {10: event(EventPhase.OPEN, start=0.5), 30: event(EventPhase.CLOSE, 0.5, 2.5)}
    for i in range(60):
        rec.push(packets[i])
        ready += rec.handle(frame(i), [script[i]] if i in script else [])
    ready += rec.close()
    (closed,) = [e for e in ready if e.phase is EventPhase.CLOSE]
    assert rec.stream_copy and closed.clip_path is None
    assert not list(tmp_path.glob("*.mp4"))


def test_snapshot_is_the_most_confident_frame_annotated(tmp_path: Path) -> None:
    script = {25: event(EventPhase.OPEN), 60: event(EventPhase.CLOSE, end=4.0)}
    _, ready = run_recorder(tmp_path, 80, script)
    snap = cv2.imread(ready[-1].snapshot_path or "")
    best = frame(40).image  # evidence confidence grows with i up to frame 40
    assert snap.shape == best.shape
    # the rat drawn in frame 40 (x 100..130) is where the snapshot shows it
    assert np.abs(snap[110, 112].astype(int) - best[110, 112].astype(int)).max() < 40
    # and the red box of a red-severity event is drawn on the subject's left edge
    b, g, r = snap[130, 100]
    assert r > 150 and g < 100


def test_annotate_does_not_touch_the_input() -> None:
    img = draw_frame([])
    before = img.copy()
    out = annotate(img, event(EventPhase.OPEN), Evidence("e1", 0.9, BOX, BOX), 2.0)
    assert np.array_equal(img, before) and not np.array_equal(out, before)


def test_overlapping_events_share_one_clip_and_encode_each_frame_once(tmp_path: Path) -> None:
    rec = ClipRecorder(tmp_path, fps=FPS, pre_roll_s=1.0, post_roll_s=1.0)
    a = event(EventPhase.OPEN)  # 2.0 s .. 4.0 s
    b = dataclasses.replace(event(EventPhase.OPEN, start=3.0), id="e2", kind=ViolationKind.COCKROACH)
    script = {
        25: [a],
        35: [b],
        45: [dataclasses.replace(a, phase=EventPhase.CLOSE, ended_s=4.0)],
        70: [dataclasses.replace(b, phase=EventPhase.CLOSE, ended_s=6.0)],
    }
    ready: list[ViolationEvent] = []
    for i in range(100):
        seen = [
            Evidence(eid, 0.7, BOX, BOX)
            for eid, (lo, hi) in (("e1", (25, 40)), ("e2", (35, 60)))
            if lo <= i <= hi
        ]
        ready += rec.handle(frame(i), script.get(i, []), seen)
    closes = [e for e in ready if e.phase is EventPhase.CLOSE]
    assert {e.id for e in closes} == {"e1", "e2"}
    assert len({e.clip_path for e in closes}) == 1  # one file for the scene
    assert len({e.snapshot_path for e in ready if e.snapshot_path}) == 2  # a snapshot each
    video = assert_browser_clip(Path(closes[0].clip_path or ""))
    # 1.0 s (first start - pre-roll) .. 7.0 s (last end + post-roll)
    assert int(video["nb_frames"]) == pytest.approx(61, abs=1)
    assert rec.frames_encoded == int(video["nb_frames"])
