"""A real camera runtime (``streams.Runtime``) behind the API's live-view routes, for tests.

Two sites with one looping synthetic camera each, keyed like the API test world's cameras
(``cam-a``, ``cam-b``). Both sites allow public live view in the runtime's own config, so the
API's ``sites.public_live`` flag is what the tests see decide. Private views need the bearer
token read from ``http.token_env``, as in production.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import av
import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from pydantic import SecretStr

from api.settings import Settings
from streams.config import parse_config
from streams.runtime import Runtime
from streams.sinks import CollectingSink
from streams.testing import make_pattern_clip
from tests.webrtc import whep_watch

TOKEN_ENV = "BK_TEST_LIVE_RUNTIME_TOKEN"
TOKEN = "runtime-token-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def live_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    tmp = tmp_path_factory.mktemp("live-runtime")
    clip = make_pattern_clip(tmp / "pattern.mp4", seconds=3.0, size_wh=(320, 180))
    cfg = parse_config(
        {
            "sites": [
                {
                    "id": site,
                    "public_live": True,
                    "cameras": [{"id": cam, "url": str(clip), "loop": True}],
                }
                for site, cam in (("site-a", "cam-a"), ("site-b", "cam-b"))
            ],
            "http": {"port": 0, "token_env": TOKEN_ENV},
            "media_dir": str(tmp / "media"),
        }
    )
    os.environ[TOKEN_ENV] = TOKEN
    rt = Runtime(cfg, sink=CollectingSink())
    try:
        rt.start()
    finally:
        del os.environ[TOKEN_ENV]  # read once at start
    try:
        yield rt
    finally:
        rt.stop()


def runtime_url(rt: Runtime) -> str:
    return f"http://127.0.0.1:{rt.http_port}"


def with_live(settings: Settings, rt: Runtime, token: str = TOKEN) -> Settings:
    return settings.model_copy(update={"live_url": runtime_url(rt), "live_token": SecretStr(token)})


async def _offer() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


def offer_sdp() -> str:
    """A real browser-like recvonly video offer (its peer is closed: nothing will connect)."""
    return asyncio.run(_offer())


def runtime_session(rt: Runtime, camera_key: str, public: bool = False) -> str:
    """Open a session directly on the runtime (as the API would) and return its id."""
    kind = "public" if public else "live"
    r = httpx.post(
        f"{runtime_url(rt)}/{kind}/{camera_key}/whep",
        content=offer_sdp(),
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[-1]


async def watch(url: str, headers: dict[str, str], n: int) -> tuple[list[av.VideoFrame], httpx.Response]:
    """WHEP as a client through ``url``: offer, answer, ``n`` decoded frames, then hang up."""
    frames, _answer, hang_up = await whep_watch(url, n, headers)
    return frames, hang_up
