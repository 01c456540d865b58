"""The pipeline end to end on real encoded video, with a colour-box detector instead of a model."""

from __future__ import annotations

import json
import subprocess
from itertools import islice
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.vision.conftest import ColourDetector, Draw, assert_browser_clip, draw_frame, write_video
from vision.decode import VideoError, read_frames
from vision.pipeline import CameraPipeline, CameraSetup, FileResult, FrameSizeError, process_batch, run_file
from vision.sinks import JsonlSink, read_events
from vision.types import Frame, ViolationEvent


def scene(i: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """18 s at 10 fps: a person bare-headed 1-6 s then with a hat; a rat runs 7-9 s."""
    boxes: list[tuple[str, tuple[int, int, int, int]]] = []
    if i < 100:
        x = 30 + i
        boxes.append(("person", (x, 40, x + 40, 200)))
        if 10 <= i < 60:
            boxes.append(("head_bare", (x + 10, 44, x + 30, 64)))
        elif i >= 60:
            boxes.append(("head_hat", (x + 10, 44, x + 30, 64)))
        if i >= 10:
            boxes.append(("face_mask", (x + 14, 52, x + 26, 62)))  # facing the camera
    if 70 <= i < 90:
        rx = 10 + 8 * (i - 70)
        boxes.append(("rat", (rx, 215, rx + 14, 225)))
    return boxes


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a keyframe every 2 s, as cameras send
    return write_video(tmp_path_factory.mktemp("v") / "kitchen.mp4", 180, scene, gop=20)


def analyze(video: Path, out: Path, detector: ColourDetector) -> FileResult:
    sink = JsonlSink(out / video.stem)
    setup = CameraSetup(camera_id="cam-test", media_dir=out / video.stem)
    return run_file(video, detector, sink, setup)


def test_file_to_events_with_clips(video: Path, tmp_path: Path, colour_detector: ColourDetector) -> None:
    result = analyze(video, tmp_path, colour_detector)
    assert result.error is None and result.frames == 180
    got = sorted((e.kind.value, e.started_s, e.ended_s) for e in result.events)
    # the detector runs at most 5 times a second (every other frame here), and a new track is
    # confirmed on its second detection: times are right to 0.2-0.4 s
    assert [g[0] for g in got] == ["no_hat", "rodent"]
    assert got[0][1:] == (pytest.approx(1.0, abs=0.41), pytest.approx(5.9, abs=0.21))
    assert got[1][1:] == (pytest.approx(7.0, abs=0.41), pytest.approx(8.9, abs=0.21))
    lines = read_events(tmp_path / "kitchen" / "events.jsonl")
    assert sorted(r["kind"] for r in lines) == ["no_hat", "rodent"]
    for rec in lines:
        assert rec["severity"] in ("orange", "red") and rec["model_version"] == "colour-test-1"
        assert rec["rule_version"].startswith("rules-") and rec["track_boxes"]
        assert_browser_clip(Path(rec["clip"]), min_frames=30)
        assert Path(rec["snapshot"]).stat().st_size > 1000
    # the quiet tail (nobody in the picture) cost no inference beyond the periodic recheck
    assert result.detect_fraction < 0.95
    assert colour_detector.images == round(result.detect_fraction * 180)


def test_frames_the_gate_turns_away_are_never_colour_converted(
    video: Path, tmp_path: Path, colour_detector: ColourDetector
) -> None:
    setup = CameraSetup(camera_id="cam-test", media_dir=tmp_path)
    pipe = CameraPipeline(setup, colour_detector, JsonlSink(tmp_path))
    frames = []
    for frame in read_frames(video, camera_id="cam-test", tap=pipe.packet_tap):
        pipe.process(frame)
        frames.append(frame)
    pipe.close()
    assert {e.kind.value for e in pipe.closed} == {"no_hat", "rodent"}
    assert 0 < colour_detector.images < len(frames)
    # BGR only for the detector's frames (the snapshots are taken from those): the rest cost a
    # decode and the motion gate's look at the luma plane
    assert sum(f.converted for f in frames) == colour_detector.images


def test_luma_plane_is_the_grey_of_the_converted_image() -> None:
    clip = Path(__file__).resolve().parents[2] / "sample_videos" / "canteen_no_hat.mp4"
    for frame in islice(read_frames(clip, camera_id="c"), 0, 60, 20):
        grey = frame.grey.astype(np.int16)
        assert not frame.converted and frame.size_wh == (grey.shape[1], grey.shape[0])
        diff = np.abs(grey - cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY).astype(np.int16))
        # equal but for rounding and the clipping of saturated colours in the BGR conversion
        assert diff.mean() < 2.0 and np.percentile(diff, 99) <= 6
        assert np.abs(grey - frame.grey).max() == 0  # the same after conversion


def test_a_frame_needs_pixels() -> None:
    with pytest.raises(ValueError, match="image or a picture"):
        Frame("c", 0.0)


def _packets(path: Path) -> list[tuple[bool, bytes, float]]:
    """(keyframe, payload, pts seconds) of every video packet, in file order."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        tb = stream.time_base
        return [(p.is_keyframe, bytes(p), float(p.pts * tb)) for p in c.demux(stream) if p.size]


def test_clips_are_cut_from_the_source_packets_not_reencoded(
    video: Path, tmp_path: Path, colour_detector: ColourDetector
) -> None:
    result = analyze(video, tmp_path, colour_detector)
    source = _packets(video)
    keys = [pts for key, _, pts in source if key]
    assert len(keys) >= 3  # the test video has several GOPs, so where a clip starts matters
    payloads = [data for _, data, _ in source]
    by_clip: dict[str, list[ViolationEvent]] = {}
    for event in result.events:
        by_clip.setdefault(event.clip_path or "", []).append(event)
    assert len(result.events) == 2 and len(by_clip) == 1  # overlapping events share one clip
    for path, events in by_clip.items():
        clip = _packets(Path(path))
        # the clip is a run of the source's own packets, byte for byte, from a keyframe
        first = payloads.index(clip[0][1])
        assert source[first][0] and clip[0][0]
        assert [d for _, d, _ in clip] == payloads[first : first + len(clip)]
        # it starts at the last keyframe at or before the first start - pre-roll (5 s) ...
        want = max([k for k in keys if k <= min(e.started_s for e in events) - 5.0], default=keys[0])
        assert source[first][2] == pytest.approx(want)
        # ... and runs to the last end + post-roll, or to the end of the file
        end = source[first + len(clip) - 1][2]
        assert end >= min(max(float(e.ended_s or 0) for e in events) + 5.0, source[-1][2]) - 0.2
        assert_browser_clip(Path(path), min_frames=30)


def test_a_clip_starts_at_the_keyframe_before_its_pre_roll(tmp_path: Path) -> None:
    """A rat at 9-11 s in a 20 s file with a keyframe every 2 s: the clip runs from 4 s."""
    late = write_video(tmp_path / "late.mp4", 200, late_rat, gop=20)
    (event,) = analyze(late, tmp_path / "out", ColourDetector()).events
    assert event.kind.value == "rodent" and event.started_s == pytest.approx(9.0, abs=0.41)
    clip = _packets(Path(event.clip_path or ""))
    source = _packets(late)
    first = [d for _, d, _ in source].index(clip[0][1])
    assert source[first][2] == pytest.approx(4.0 if event.started_s >= 9.0 else 2.0)
    assert 10.0 <= len(clip) / 10 <= 14.0  # pre-roll from the keyframe, the rat, 5 s post-roll


def test_clips_of_a_codec_browsers_cannot_play_are_reencoded_to_h264(
    video: Path, tmp_path: Path, colour_detector: ColourDetector
) -> None:
    mpeg4 = tmp_path / "kitchen-mpeg4.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video), "-c:v", "mpeg4", "-q:v", "3", str(mpeg4)], check=True
    )
    result = analyze(mpeg4, tmp_path / "out", colour_detector)
    assert sorted(e.kind.value for e in result.events) == ["no_hat", "rodent"]
    for event in result.events:
        assert_browser_clip(Path(event.clip_path or ""), min_frames=30)  # H.264 yuv420p faststart


def test_events_jsonl_paths_are_relative(
    video: Path, tmp_path: Path, colour_detector: ColourDetector
) -> None:
    analyze(video, tmp_path, colour_detector)
    raw = [json.loads(x) for x in (tmp_path / "kitchen" / "events.jsonl").read_text().splitlines()]
    assert all(not Path(r["clip"]).is_absolute() and (tmp_path / "kitchen" / r["clip"]).exists() for r in raw)
    required = {"id", "kind", "severity", "start_s", "end_s", "track_id", "clip", "snapshot", "confidence"}
    assert all(required <= r.keys() for r in raw)


def test_batch_of_two_cameras_one_detector_call_per_step(tmp_path: Path) -> None:
    det = ColourDetector()
    pipes = [
        CameraPipeline(CameraSetup(camera_id=c, media_dir=tmp_path / c, fps=10), det, JsonlSink(tmp_path / c))
        for c in ("a", "b")
    ]
    for i in range(95):
        img = draw_frame(scene(i))
        process_batch([(p, Frame(p.setup.camera_id, i / 10, img, i)) for p in pipes])
    closed = [e for p in pipes for e in p.close()] + [e for p in pipes for e in p.closed]
    assert {(e.camera_id, e.kind.value) for e in closed} == {
        ("a", "no_hat"),
        ("a", "rodent"),
        ("b", "no_hat"),
        ("b", "rodent"),
    }
    assert det.calls <= 95 and det.images >= det.calls  # both cameras' frames went in shared calls


def _detections_per_second(tmp_path: Path, draw: Draw, *, calm_when_reported: bool) -> float:
    """Detector images per second from 6 s to 12 s of 15 fps frames of ``draw``."""
    det = ColourDetector()
    setup = CameraSetup("c", tmp_path, fps=15, calm_when_reported=calm_when_reported)
    pipe = CameraPipeline(setup, det, JsonlSink(tmp_path))
    before = 0
    for i in range(12 * 15):
        if i == 6 * 15:
            before = det.images
        pipe.process(Frame("c", i / 15, draw_frame(draw(i)), i))
    assert [e.kind.value for e in pipe.rules.open_events] in (["no_hat"], ["rodent"])
    pipe.close()
    return (det.images - before) / 6.0


def _bare_walker(i: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    x = 20 + i
    return [
        ("person", (x, 40, x + 40, 200)),
        ("head_bare", (x + 10, 44, x + 30, 64)),
        ("face_mask", (x + 14, 52, x + 26, 62)),
    ]


def _rat(i: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    x = 10 + i
    return [("rat", (x, 215, x + 14, 225))]


def test_a_reported_person_event_goes_back_to_the_calm_rate(tmp_path: Path) -> None:
    # someone bare-headed walks about for 12 s: once the no_hat event is open, the camera is
    # looked at 2.5 times a second like any calm camera; a rat keeps it at the full 5
    assert _detections_per_second(tmp_path / "a", _bare_walker, calm_when_reported=True) == pytest.approx(
        2.5, abs=0.2
    )
    assert _detections_per_second(tmp_path / "b", _bare_walker, calm_when_reported=False) == pytest.approx(
        5.0, abs=0.2
    )
    assert _detections_per_second(tmp_path / "c", _rat, calm_when_reported=True) == pytest.approx(
        5.0, abs=0.2
    )


def test_frame_of_wrong_size_is_refused(tmp_path: Path) -> None:
    pipe = CameraPipeline(CameraSetup("c", tmp_path), ColourDetector(), JsonlSink(tmp_path))
    pipe.process(Frame("c", 0.0, np.zeros((240, 320, 3), np.uint8), 0))
    with pytest.raises(FrameSizeError, match="frame 1 is 160x120, expected 320x240"):
        pipe.process(Frame("c", 0.1, np.zeros((120, 160, 3), np.uint8), 1))
    pipe.close()


# --- bad input: one clear line naming the file, and what came before is kept -----------------


def late_rat(i: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    return [("rat", (10 + 6 * (i - 90), 200, 24 + 6 * (i - 90), 210))] if 90 <= i < 110 else []


def early_rat(i: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    return [("rat", (10 + 6 * i, 200, 24 + 6 * i, 210))] if i < 25 else []


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 40_000, dtype=np.uint8).tobytes())
    audio = tmp_path / "audio.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine", "-t", "1", str(audio)], check=True)
    cases = {
        empty: "empty file (0 bytes)",
        junk: "not a readable video",
        audio: "no video stream",
        tmp_path / "missing.mp4": "file not found",
    }
    for path, cause in cases.items():
        with pytest.raises(VideoError) as err:
            analyze(path, tmp_path / "out", ColourDetector())
        msg = str(err.value)
        assert msg.startswith(str(path)) and cause in msg and "\n" not in msg


def test_unsupported_codec(tmp_path: Path) -> None:
    avi = tmp_path / "odd.avi"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "1",
            "-c:v",
            "mpeg4",
            str(avi),
        ],
        check=True,
    )
    avi.write_bytes(avi.read_bytes().replace(b"FMP4", b"ZQZQ"))  # a FourCC no decoder knows
    with pytest.raises(VideoError, match=r"odd\.avi: unsupported video codec"):
        analyze(avi, tmp_path / "out", ColourDetector())


def test_unfinished_mp4_without_index(tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "3",
            "-c:v",
            "libx264",
            str(src),
        ],
        check=True,
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])  # moov is at the end: gone
    with pytest.raises(VideoError, match=r"cut\.mp4: truncated or unfinished MP4"):
        analyze(cut, tmp_path / "out", ColourDetector())


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_fault_midway_keeps_earlier_events_and_their_clips(tmp_path: Path, damage: str) -> None:
    src = write_video(tmp_path / "src.mp4", 80, early_rat)
    data = bytearray(src.read_bytes())
    if damage == "truncate":
        data = data[: int(len(data) * 0.75)]
    else:
        rng = np.random.default_rng(1)
        for pos in range(int(len(data) * 0.7), len(data), 53):
            data[pos] = int(rng.integers(256))
    bad = tmp_path / f"{damage}.mp4"
    bad.write_bytes(bytes(data))
    with pytest.raises(VideoError) as err:
        analyze(bad, tmp_path / "out", ColourDetector())
    assert str(err.value).startswith(str(bad))
    result = err.value.result
    assert isinstance(result, FileResult) and result.error == str(err.value)
    assert [e.kind.value for e in result.events] == ["rodent"]
    lines = read_events(tmp_path / "out" / damage / "events.jsonl")
    assert [r["kind"] for r in lines] == ["rodent"]
    assert_browser_clip(Path(lines[0]["clip"]), min_frames=20)


def test_resolution_change_midstream(tmp_path: Path) -> None:
    parts = []
    for name, size in (("a", "320x240"), ("b", "160x120")):
        p = tmp_path / f"{name}.h264"
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size={size}:rate=10",
                "-t",
                "1",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                str(p),
            ],
            check=True,
        )
        parts.append(p.read_bytes())
    both = tmp_path / "both.h264"
    both.write_bytes(b"".join(parts))
    with pytest.raises(VideoError, match=r"both\.h264: frame 10 is 160x120, expected 320x240"):
        analyze(both, tmp_path / "out", ColourDetector())


def test_a_pest_first_seen_on_a_calm_camera_is_looked_at_again_at_the_full_rate(tmp_path: Path) -> None:
    # an empty room, then a rat from 3 s: the look that first finds it (its track is not
    # confirmed yet) already switches the camera to the full rate, so the tracker confirms it
    # 0.2 s later instead of one calm interval (0.4 s)
    looks, closed = _rat_looks(tmp_path, pest_detect_fps=None)
    after = [t for t in looks if t >= 3.0]
    assert after[1] - after[0] == pytest.approx(0.2)
    assert [e.kind.value for e in closed] == ["rodent"]


def _rat_looks(tmp_path: Path, **setup: float | None) -> tuple[list[float], list[ViolationEvent]]:
    """When the detector looked (15 fps, empty room, a rat from 3 s to 5 s) and the events."""
    pipe = CameraPipeline(CameraSetup("c", tmp_path, fps=15, **setup), ColourDetector(), JsonlSink(tmp_path))
    looks = []
    for i in range(5 * 15):
        draw = _rat(i - 45) if i >= 45 else []
        before = pipe.motion.frames_detected
        pipe.process(Frame("c", i / 15, draw_frame(draw), i))
        if pipe.motion.frames_detected > before:
            looks.append(i / 15)
    pipe.close()
    return looks, pipe.closed


def test_a_young_pest_run_is_looked_at_on_every_frame_until_its_event_opens(tmp_path: Path) -> None:
    # from the look that first finds the rat until its event opens, every frame is looked at:
    # the event opens on the first frame past the 0.5 s minimum, not on the third look at 5 a
    # second (0.6 s); once it is open, 5 a second again
    looks, closed = _rat_looks(tmp_path / "hurry")
    (event,) = closed
    assert event.opened_s is not None
    assert event.opened_s - event.started_s == pytest.approx(7 / 15)
    during = [t for t in looks if 3.0 <= t <= event.opened_s]
    assert np.diff(during) == pytest.approx([1 / 15] * (len(during) - 1))
    later = [t for t in looks if event.opened_s + 0.5 <= t <= 4.5]
    assert np.diff(later) == pytest.approx([0.2] * (len(later) - 1))
    _, (slow,) = _rat_looks(tmp_path / "slow", pest_detect_fps=None)
    assert slow.opened_s is not None and slow.opened_s - slow.started_s == pytest.approx(0.6)


def _walker_and_rat(i: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """A bare-headed person walking for 8 s; a rat runs 2-4 s."""
    x = 30 + i
    boxes = [("person", (x, 40, x + 40, 200)), ("head_bare", (x + 10, 44, x + 30, 64))]
    boxes.append(("face_mask", (x + 14, 52, x + 26, 62)))
    if 30 <= i < 60:
        boxes += _rat(8 * (i - 30))
    return boxes


def test_the_pests_extra_looks_leave_people_alone(tmp_path: Path) -> None:
    # the frames looked at only for the rat do not step the person's tracker nor their rules:
    # their event is the same to the frame, with or without the extra looks
    got = {}
    for fps in (15.0, None):
        detector = ColourDetector()
        setup = CameraSetup("c", tmp_path / str(fps), fps=15, pest_detect_fps=fps)
        pipe = CameraPipeline(setup, detector, JsonlSink(tmp_path / str(fps)))
        for i in range(8 * 15):
            pipe.process(Frame("c", i / 15, draw_frame(_walker_and_rat(i)), i))
        pipe.close()
        got[fps] = (detector.images, {e.kind.value: e for e in pipe.closed})
    (fast_looks, fast), (slow_looks, slow) = got[15.0], got[None]
    assert set(fast) == set(slow) == {"no_hat", "rodent"}
    assert fast_looks > slow_looks  # the extra looks were made
    a, b = fast["no_hat"], slow["no_hat"]
    assert (a.started_s, a.opened_s, a.ended_s, a.track_boxes) == (
        b.started_s,
        b.opened_s,
        b.ended_s,
        b.track_boxes,
    )
    assert fast["rodent"].opened_s < slow["rodent"].opened_s
