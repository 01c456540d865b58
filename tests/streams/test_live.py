"""Live view through real WebRTC peers: an aiortc client and headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest
import ultralytics
from starlette.requests import Request
from starlette.testclient import TestClient

from streams.config import parse_config
from streams.live import Access, LiveCamera, bearer_token, build_live_app
from streams.privacy import FaceBlurrer
from streams.runtime import Runtime
from streams.sinks import CollectingSink
from streams.slots import FrameHub
from tests.webrtc import launch_chromium, whep_watch

from .conftest import wait_for

FACES = Path(ultralytics.__file__).resolve().parent / "assets" / "zidane.jpg"


def make_face_clip(path: Path, seconds: float = 4.0, fps: int = 15) -> Path:
    """Two real faces (ultralytics' zidane.jpg) with a little camera shake, as H.264."""
    photo = cv2.resize(cv2.imread(str(FACES)), (680, 383))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"g": "15", "preset": "ultrafast", "bf": "0"}
        for i in range(int(seconds * fps)):
            dx, dy = (i * 3) % 30, (i * 2) % 20
            img = np.ascontiguousarray(photo[dy : dy + 360, dx : dx + 640])
            for pkt in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(pkt)
        for pkt in stream.encode(None):
            out.mux(pkt)
    return path


async def deny_all(_request: Request, _camera_id: str, access: Access) -> bool:
    return access is Access.PUBLIC


@pytest.fixture(scope="module")
def runtime(pattern_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    tmp = tmp_path_factory.mktemp("live")
    faces = make_face_clip(tmp / "faces.mp4")
    cfg = parse_config(
        {
            "sites": [
                {"id": "kitchen", "cameras": [{"id": "cam0", "url": str(pattern_clip), "loop": True}]},
                {
                    "id": "school",
                    "public_live": True,
                    "cameras": [{"id": "faces", "url": str(faces), "loop": True}],
                },
            ],
            "http": {"port": 0},
            "media_dir": str(tmp / "media"),
        }
    )
    rt = Runtime(cfg, sink=CollectingSink())
    rt.start()
    wait_for(lambda: all(w.hub.version > 0 for w in rt.workers.values()), 15)
    yield rt
    rt.stop()


async def receive(url: str, n: int) -> list[av.VideoFrame]:
    """WHEP as a client: POST our offer, apply the answer, collect ``n`` decoded frames."""
    frames, answer, hang_up = await whep_watch(url, n, timeout=5.0)
    assert (
        answer.headers["content-type"].startswith("application/sdp")
        and "/whep/" in answer.headers["location"]
    )
    assert hang_up.status_code == 200
    return frames


def base(rt: Runtime) -> str:
    return f"http://127.0.0.1:{rt.http_port}"


def test_aiortc_peer_receives_decodable_frames_with_advancing_time(runtime: Runtime) -> None:
    async def two_viewers() -> tuple[list[av.VideoFrame], list[av.VideoFrame]]:
        url = f"{base(runtime)}/live/cam0/whep?overlay=1"
        a, b = await asyncio.gather(receive(url, 20), receive(url, 20))
        return a, b

    for frames in asyncio.run(two_viewers()):
        assert len(frames) == 20
        img = frames[-1].to_ndarray(format="bgr24")
        assert img.shape == (360, 640, 3) and float(img.std()) > 20  # a real picture, not a blank
        pts = [f.pts for f in frames]
        assert all(b > a for a, b in zip(pts, pts[1:], strict=False))
        assert (pts[-1] - pts[0]) * frames[0].time_base > 0.5  # 20 frames of a 15 fps camera


def test_public_view_blurs_every_face_private_view_does_not(runtime: Runtime) -> None:
    face = FaceBlurrer()
    private = asyncio.run(receive(f"{base(runtime)}/live/faces/whep", 30))
    public = asyncio.run(receive(f"{base(runtime)}/public/faces/whep", 30))
    private_faces = [len(face.detect(f.to_ndarray(format="bgr24"))) for f in private[-10:]]
    public_faces = [len(face.detect(f.to_ndarray(format="bgr24"))) for f in public[-10:]]
    assert min(private_faces) >= 1
    assert public_faces == [0] * 10


def test_requests_that_must_be_refused(runtime: Runtime) -> None:
    with httpx.Client(base_url=base(runtime)) as c:
        sdp = {"content": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"}
        assert c.post("/public/cam0/whep", **sdp).status_code == 404  # site did not opt in
        assert c.post("/live/nope/whep", **sdp).status_code == 404
        assert c.post("/live/cam0/whep", content="hello").status_code == 400
        assert c.get("/live/nope/").status_code == 404
        status = c.get("/status").json()
        assert set(status["cameras"]) == {"cam0", "faces"} and status["cameras"]["cam0"]["frames_in"] > 0


def test_the_injected_authorization_hook_decides_private_views() -> None:
    hub = FrameHub("cam0")
    app = build_live_app({"cam0": LiveCamera("cam0", "kitchen", hub, public=True)}, authorize=deny_all)
    with TestClient(app) as c:
        sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        r = c.post("/live/cam0/whep", content=sdp)
        assert r.status_code == 403 and "not allowed" in r.text
        assert c.delete("/live/cam0/whep/unknown").status_code == 404


def test_bearer_token_hook() -> None:
    app = build_live_app(
        {"cam0": LiveCamera("cam0", "kitchen", FrameHub("cam0"), public=False)},
        authorize=bearer_token("0123456789abcdef-secret"),
    )
    with TestClient(app) as c:
        r = c.post("/live/cam0/whep", content="m=video 9", headers={"Authorization": "Bearer wrong-token"})
        assert r.status_code == 403
        ok = c.post(
            "/live/cam0/whep", content="x", headers={"Authorization": "Bearer 0123456789abcdef-secret"}
        )
        assert ok.status_code == 400  # past authorization: the body is checked next
    with pytest.raises(ValueError, match="at least 16"):
        bearer_token("short")


def test_chromium_plays_the_live_stream(runtime: Runtime) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.goto(f"{base(runtime)}/live/cam0/")
            page.wait_for_function("document.getElementById('v').currentTime > 1.0", timeout=30_000)
            t1 = page.evaluate("document.getElementById('v').currentTime")
            page.wait_for_timeout(1000)
            t2 = page.evaluate("document.getElementById('v').currentTime")
            size = page.evaluate(
                "[document.getElementById('v').videoWidth, document.getElementById('v').videoHeight]"
            )
            assert page.evaluate("document.body.dataset.error || ''") == ""
        finally:
            browser.close()
    assert t2 > t1
    assert size == [640, 360]
