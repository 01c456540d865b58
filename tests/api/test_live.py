"""Live view through the API: a real camera runtime behind it, a real aiortc viewer in front.

The API checks the viewer's per-site rights and forwards the WHEP offer with the runtime's token;
frames flow from the runtime to the viewer. The authorization matrix covers every role × route;
here: the whole path end to end, consent for public views, and the failure answers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from api.main import create_app
from api.models import AuditEntry, Site
from api.settings import Settings
from streams.runtime import Runtime
from tests.api.live_runtime import TOKEN, live_runtime, offer_sdp, watch, with_live
from tests.api.world import World
from tests.webrtc import launch_chromium

__all__ = ["live_runtime"]  # the fixture, imported for this module's tests
SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def settings(settings: Settings, live_runtime: Runtime) -> Settings:
    return with_live(settings, live_runtime)


def private(world: World, camera_id: uuid.UUID) -> str:
    return f"/api/cameras/{camera_id}/live/whep"


def public(camera_id: uuid.UUID) -> str:
    return f"/api/public/cameras/{camera_id}/live/whep"


def sessions(rt: Runtime) -> set[str]:
    assert rt._http is not None
    app: Any = rt._http.config.app  # the runtime's Starlette app (streams.live)
    return set(app.state.live.peers)


def test_site_staff_watch_their_camera_through_the_api(
    world: World, live_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = world.headers("staff_a")
    frames, hang_up = asyncio.run(watch(live_url + private(world, world.cam_a.id), headers, 20))
    assert len(frames) == 20
    img = frames[-1].to_ndarray(format="bgr24")
    assert img.shape == (180, 320, 3) and float(img.std()) > 20  # a real picture, not a blank
    pts = [f.pts for f in frames]
    assert all(b > a for a, b in zip(pts, pts[1:], strict=False))
    assert (pts[-1] - pts[0]) * frames[0].time_base > 0.5  # 20 frames of a 15 fps camera
    assert hang_up.status_code == 204
    with world.services.session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "camera.live_viewed")).one()
        assert entry.object_id == str(world.cam_a.id) and entry.actor == "staff-a"
    assert TOKEN not in caplog.text


def test_the_answer_points_at_the_apis_own_hang_up_route(world: World, live_runtime: Runtime) -> None:
    r = world.client.post(
        private(world, world.cam_a.id), content=offer_sdp(), headers={**world.headers("reg_x"), **SDP}
    )
    assert r.status_code == 201 and r.headers["content-type"].startswith("application/sdp")
    assert "a=fingerprint" in r.text and TOKEN not in r.text and "Authorization" not in r.headers
    location = r.headers["location"]
    assert location.startswith(private(world, world.cam_a.id) + "/")
    session = location.rsplit("/", 1)[-1]
    assert session in sessions(live_runtime)
    assert world.client.delete(location, headers=world.headers("staff_b")).status_code == 404
    other_camera = f"{private(world, world.cam_b.id)}/{session}"
    assert world.client.delete(other_camera, headers=world.headers("admin")).status_code == 404
    assert world.client.delete(location.replace("/api/", "/api/public/", 1)).status_code == 404
    assert session in sessions(live_runtime)  # none of those ended it
    assert world.client.delete(location, headers=world.headers("reg_x")).status_code == 204
    assert session not in sessions(live_runtime)
    assert world.client.delete(location, headers=world.headers("reg_x")).status_code == 404


@pytest.mark.parametrize("role", ["staff_b", "reg_y"])
def test_another_sites_camera_looks_like_no_camera(world: World, role: str) -> None:
    c, h = world.client, {**world.headers(role), **SDP}
    theirs = c.post(private(world, world.cam_a.id), content="v=0", headers=h)
    missing = c.post(private(world, uuid.uuid4()), content="v=0", headers=h)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_anonymous_needs_a_login_for_the_private_route(world: World) -> None:
    r = world.client.post(private(world, world.cam_a.id), content=offer_sdp(), headers=SDP)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_public_view_only_where_the_site_consents(world: World, live_url: str) -> None:
    c = world.client
    assert c.post(public(world.cam_a.id), content=offer_sdp(), headers=SDP).status_code == 404
    r = c.patch(f"/api/sites/{world.site_a.id}", json={"public_live": True}, headers=world.headers("staff_a"))
    assert r.status_code == 200 and r.json()["public_live"] is True
    frames, hang_up = asyncio.run(watch(live_url + public(world.cam_a.id), {}, 10))
    assert len(frames) == 10 and hang_up.status_code == 204
    # Site B has not consented: refused although its runtime config would serve it.
    refused = c.post(public(world.cam_b.id), content=offer_sdp(), headers=SDP)
    assert refused.status_code == 404 and refused.json() == {"detail": "public live camera not found"}
    with world.services.session_factory() as s:
        assert s.get_one(Site, world.site_b.id).public_live is False


def test_refused_offers(world: World) -> None:
    c, url, h = world.client, private(world, world.cam_a.id), world.headers("admin")
    assert c.post(url, content=offer_sdp(), headers={**h, "Content-Type": "text/plain"}).status_code == 415
    assert c.post(url, content="x" * 70_000, headers={**h, **SDP}).status_code == 413
    bad = c.post(url, content="v=0\r\n", headers={**h, **SDP})
    assert bad.status_code == 400 and "SDP" in bad.json()["detail"]  # the runtime's reason
    assert c.delete(f"{url}/not-a-session", headers=h).status_code == 422


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"live_token": "wrong-token-0123456789"}, 502, "BK_LIVE_TOKEN"),
        ({"live_url": "http://127.0.0.1:{port}"}, 503, "unreachable"),
        ({"live_url": ""}, 503, "BK_LIVE_URL"),
    ],
)
def test_runtime_trouble_answers_a_clear_error_without_the_token(
    world: World,
    settings: Settings,
    change: dict[str, str],
    status: int,
    says: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    update: dict[str, object] = {k: v.format(port=free_port()) for k, v in change.items()}
    if "live_token" in update:
        update["live_token"] = SecretStr(change["live_token"])
    with TestClient(create_app(settings.model_copy(update=update))) as c:
        headers = {**world.headers("admin"), **SDP}
        r = c.post(private(world, world.cam_a.id), content=offer_sdp(), headers=headers)
    assert r.status_code == status and says in r.json()["detail"], r.text
    for secret in (TOKEN, change.get("live_token", TOKEN)):
        assert secret not in r.text and secret not in caplog.text


PLAY = """async ([url, token]) => {
  const pc = new RTCPeerConnection({iceServers: []});
  pc.addTransceiver("video", {direction: "recvonly"});
  const video = document.createElement("video");
  video.id = "v"; video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.appendChild(video);
  pc.ontrack = (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((ok) => {
    if (pc.iceGatheringState === "complete") return ok();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && ok();
    setTimeout(ok, 2000);
  });
  const r = await fetch(url, {method: "POST", body: pc.localDescription.sdp,
    headers: {"Content-Type": "application/sdp", "Authorization": "Bearer " + token}});
  if (r.status !== 201) return r.status + " " + await r.text();
  await pc.setRemoteDescription({type: "answer", sdp: await r.text()});
  window.bkPeer = pc;
  return "";
}"""


def test_chromium_plays_a_camera_through_the_api(world: World, live_url: str) -> None:
    from playwright.sync_api import sync_playwright

    token = world.token("staff_a")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.goto(f"{live_url}/api/health")  # same origin as the API: no CORS involved
            assert page.evaluate(PLAY, [private(world, world.cam_a.id), token]) == ""
            page.wait_for_function("document.getElementById('v').currentTime > 1.0", timeout=30_000)
            size = page.evaluate(
                "[document.getElementById('v').videoWidth, document.getElementById('v').videoHeight]"
            )
        finally:
            browser.close()
    assert size == [320, 180]
