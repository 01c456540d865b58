"""The runtime with the project's trained detector on a sample clip served over RTSP."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from streams.config import parse_config
from streams.runtime import Runtime
from streams.sinks import CollectingSink
from streams.testing import RtspServer
from tests.webrtc import chromium_plays
from vision.kinds import ViolationKind
from vision.types import EventPhase

from .conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "models" / "kitchen-yolo11n.yaml"
CLIP = ROOT / "sample_videos" / "canteen_no_hat.mp4"


@pytest.mark.parametrize(("copy_clips", "clip_fps"), [(True, 15.0), (False, 5.0)])
def test_no_hat_event_from_a_live_stream_with_its_clip(
    tmp_path: Path, gst_ok: bool, copy_clips: bool, clip_fps: float
) -> None:
    """The clip is the camera's own packets at its 15 fps (stream copy), or with
    ``copy_clips: false`` the analysed frames re-encoded at ``detect_fps``."""
    with RtspServer({"cam": CLIP}) as server:
        cfg = parse_config(
            {
                "sites": [
                    {
                        "id": "canteen",
                        "cameras": [
                            {
                                "id": "cam",
                                "url": server.url("cam"),
                                "detect_fps": 5,
                                "copy_clips": copy_clips,
                                "rules": {"working_hours": {"start": "00:00:00", "end": "23:59:59"}},
                            }
                        ],
                    }
                ],
                "detector": {"profile": str(PROFILE), "threads": 2},
                "http": {"enabled": False},
                "media_dir": str(tmp_path / "media"),
            }
        )
        sink = CollectingSink()
        rt = Runtime(cfg, sink=sink)
        rt.start()
        try:
            try:
                wait_for(lambda: any(e.kind is ViolationKind.NO_HAT for e in sink.snapshot()), 60, 0.2)
            except AssertionError as exc:  # say what the camera did, for a failure on a loaded machine
                raise AssertionError(f"{exc}; status: {rt.status()['cameras']}") from exc
            status = rt.status()
        finally:
            rt.stop()  # closes the open event and finalizes its clip
    cams = status["cameras"]
    assert isinstance(cams, dict) and cams["cam"]["detections"] > 0
    no_hat = [e for e in sink.snapshot() if e.kind is ViolationKind.NO_HAT]
    assert [e.phase for e in no_hat][0] is EventPhase.OPEN and no_hat[-1].phase is EventPhase.CLOSE
    assert no_hat[-1].model_version and no_hat[-1].started_wall is not None
    clip = no_hat[-1].clip_path
    assert (
        clip is not None
        and Path(clip).is_file()
        and Path(clip).parent == tmp_path / "media" / "canteen" / "cam"
    )
    with av.open(clip) as box:
        assert box.streams.video[0].codec_context.name == "h264"
        times = [f.time for f in box.decode(video=0) if f.time is not None]
    assert len(times) >= 5
    assert (len(times) - 1) / (times[-1] - times[0]) == pytest.approx(clip_fps, rel=0.2)
    size, _ = chromium_plays(Path(clip), tmp_path)  # RTSP's Annex B packets, remuxed into MP4
    assert size == [640, 360]
