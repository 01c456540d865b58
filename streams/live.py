"""WebRTC live view (aiortc), WHEP-style: POST an SDP offer, get the SDP answer back.

Routes of the runtime's small Starlette app:

- ``POST /live/{camera_id}/whep`` (``application/sdp``): staff/regulator view, checked by the
  injected ``authorize`` hook; ``?overlay=1`` draws the latest detections.
- ``POST /public/{camera_id}/whep``: anonymous view, only for sites with ``public_live: true``,
  every face blurred (``streams.privacy``).
- ``DELETE /live/{camera_id}/whep/{session}``: hang up (404 unless the session is a view of that
  camera opened through the same route family). ``GET /live/{camera_id}/`` and
  ``GET /public/{camera_id}/``: a minimal player page. ``GET /status``: runtime status JSON.

A camera is decoded once by its reader; every viewer's track reads the same ``FrameHub``; the
public view blurs each new frame once however many anonymous viewers there are.
"""

from __future__ import annotations

import asyncio
import fractions
import hmac
import ipaddress
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from streams.detect import CameraDetector
from streams.privacy import FACE_CLASSES, FaceBlurrer
from streams.slots import FrameHub

log = logging.getLogger(__name__)
CLOCK_RATE = 90_000


class Access(StrEnum):
    PRIVATE = "private"  # staff of the site, regulators of its region
    PUBLIC = "public"  # anonymous, only where the site opted in


Authorize = Callable[[Request, str, Access], Awaitable[bool]]


async def loopback_only(request: Request, camera_id: str, access: Access) -> bool:
    """Default hook until the API injects its per-site check: private views from this host only."""
    if access is Access.PUBLIC:
        return True
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bearer_token(token: str) -> Authorize:
    """A hook for an API on another host: private views need ``Authorization: Bearer <token>``.

    The API checks the user's per-site rights, then forwards the offer with the shared token.
    """
    if len(token) < 16:
        raise ValueError("the live-view token must be at least 16 characters")

    async def check(request: Request, camera_id: str, access: Access) -> bool:
        if access is Access.PUBLIC:
            return True
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())

    return check


@dataclass(slots=True)
class LiveCamera:
    camera_id: str
    site_id: str
    hub: FrameHub
    public: bool
    detector: CameraDetector | None = None
    _blurred: tuple[int, npt.NDArray[np.uint8]] | None = field(default=None, repr=False)
    _blur_lock: asyncio.Lock | None = field(default=None, repr=False)

    async def public_image(
        self, version: int, image: npt.NDArray[np.uint8], blurrer: FaceBlurrer
    ) -> npt.NDArray[np.uint8]:
        """The blurred frame ``version``, computed once and shared by every public viewer."""
        if self._blur_lock is None:
            self._blur_lock = asyncio.Lock()
        async with self._blur_lock:
            if self._blurred is None or self._blurred[0] != version:
                extra = face_boxes(self.detector, image.shape[1], image.shape[0])
                out = await asyncio.get_running_loop().run_in_executor(None, blurrer.blur, image, extra)
                self._blurred = (version, out)
            return self._blurred[1]


def face_boxes(detector: CameraDetector | None, w: int, h: int) -> list[tuple[float, float, float, float]]:
    """Head/face boxes of the project's detector, scaled to this frame, for the public blur."""
    dets = None if detector is None else detector.last
    if dets is None or len(dets) == 0 or detector is None or detector.last_size_wh is None:
        return []
    names = dets.data.get("class_name")
    if names is None:
        return []
    sx, sy = w / detector.last_size_wh[0], h / detector.last_size_wh[1]
    return [
        (float(b[0] * sx), float(b[1] * sy), float(b[2] * sx), float(b[3] * sy))
        for b, n in zip(dets.xyxy, names, strict=False)
        if str(n) in FACE_CLASSES
    ]


def draw_overlay(image: npt.NDArray[np.uint8], detector: CameraDetector | None) -> npt.NDArray[np.uint8]:
    dets = None if detector is None else detector.last
    if dets is None or len(dets) == 0 or detector is None or detector.last_size_wh is None:
        return image
    out = image.copy()
    sx, sy = image.shape[1] / detector.last_size_wh[0], image.shape[0] / detector.last_size_wh[1]
    names = dets.data.get("class_name", [""] * len(dets))
    for b, n in zip(dets.xyxy, names, strict=False):
        p1, p2 = (int(b[0] * sx), int(b[1] * sy)), (int(b[2] * sx), int(b[3] * sy))
        cv2.rectangle(out, p1, p2, (0, 200, 255), 2)
        cv2.putText(out, str(n), (p1[0], max(10, p1[1] - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 200, 255), 1)
    return out


class CameraTrack(MediaStreamTrack):
    """A video track that sends each new frame of the hub once, stamped on a 90 kHz clock."""

    kind = "video"

    def __init__(
        self, cam: LiveCamera, *, access: Access, overlay: bool, blurrer: FaceBlurrer | None
    ) -> None:
        super().__init__()
        self.cam, self.access, self.overlay, self.blurrer = cam, access, overlay, blurrer
        self._seen = 0
        self._t0: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        version, frame = self.cam.hub.latest()
        while frame is None or version == self._seen:
            await asyncio.sleep(0.005)
            if self.readyState != "live":
                raise MediaStreamError
            version, frame = self.cam.hub.latest()
        self._seen = version
        image = frame.image
        if self.access is Access.PUBLIC:
            assert self.blurrer is not None
            image = await self.cam.public_image(version, image, self.blurrer)
        elif self.overlay:
            image = draw_overlay(image, self.cam.detector)
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        vf.pts = int((now - self._t0) * CLOCK_RATE)
        vf.time_base = fractions.Fraction(1, CLOCK_RATE)
        return vf


class LiveService:
    """Peer connections of every viewer; closed together on shutdown."""

    def __init__(self, cameras: dict[str, LiveCamera], authorize: Authorize | None = None) -> None:
        self.cameras = cameras
        self.authorize: Authorize = authorize or loopback_only
        self.peers: dict[str, tuple[LiveCamera, RTCPeerConnection]] = {}
        self.access: dict[str, Access] = {}  # session → the route that opened it (a hang-up must match)
        self._blurrer: FaceBlurrer | None = None

    def blurrer(self) -> FaceBlurrer:
        if self._blurrer is None:
            self._blurrer = FaceBlurrer()
        return self._blurrer

    async def answer(
        self, camera_id: str, offer_sdp: str, *, access: Access, overlay: bool
    ) -> tuple[str, str]:
        cam = self.cameras[camera_id]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        session = uuid.uuid4().hex
        self.peers[session] = (cam, pc)
        self.access[session] = access
        cam.hub.add_viewer()
        blurrer = self.blurrer() if access is Access.PUBLIC else None
        track = CameraTrack(cam, access=access, overlay=overlay, blurrer=blurrer)

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.hang_up(session)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            pc.addTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception:
            await self.hang_up(session)
            raise
        return session, pc.localDescription.sdp

    def owns(self, session: str, camera_id: str, access: Access) -> bool:
        """Whether ``session`` is a view of ``camera_id`` opened through ``access``'s route."""
        entry = self.peers.get(session)
        return entry is not None and entry[0].camera_id == camera_id and self.access.get(session) is access

    async def hang_up(self, session: str) -> bool:
        entry = self.peers.pop(session, None)
        self.access.pop(session, None)
        if entry is None:
            return False
        entry[0].hub.add_viewer(-1)
        await entry[1].close()
        return True

    async def close(self) -> None:
        for session in list(self.peers):
            await self.hang_up(session)


def build_live_app(
    cameras: dict[str, LiveCamera],
    *,
    status: Callable[[], dict[str, object]] | None = None,
    authorize: Authorize | None = None,
) -> Starlette:
    """The runtime's HTTP app; the API mounts or proxies it behind its own authorization."""
    service = LiveService(cameras, authorize)

    async def whep(request: Request) -> Response:
        access = Access.PUBLIC if request.url.path.startswith("/public/") else Access.PRIVATE
        camera_id = request.path_params["camera_id"]
        cam = cameras.get(camera_id)
        if cam is None or (access is Access.PUBLIC and not cam.public):
            return PlainTextResponse("no such live camera", status_code=404)
        if not await service.authorize(request, camera_id, access):
            return PlainTextResponse("not allowed to view this camera", status_code=403)
        offer = (await request.body()).decode("utf-8", "replace")
        if "m=video" not in offer:
            return PlainTextResponse("body must be an SDP offer with a video section", status_code=400)
        overlay = request.query_params.get("overlay") in ("1", "true") and access is Access.PRIVATE
        try:
            session, sdp = await service.answer(camera_id, offer, access=access, overlay=overlay)
        except ValueError as exc:
            return PlainTextResponse(f"bad SDP offer: {exc}", status_code=400)
        return Response(
            sdp,
            status_code=201,
            media_type="application/sdp",
            headers={"Location": f"{request.url.path}/{session}"},
        )

    async def hang_up(request: Request) -> Response:
        access = Access.PUBLIC if request.url.path.startswith("/public/") else Access.PRIVATE
        session = request.path_params["session"]
        if not service.owns(session, request.path_params["camera_id"], access):
            return Response(status_code=404)  # unknown, ended, or a view of another camera
        ok = await service.hang_up(session)
        return Response(status_code=200 if ok else 404)

    async def page(request: Request) -> Response:
        camera_id = request.path_params["camera_id"]
        if camera_id not in cameras:
            return PlainTextResponse("no such live camera", status_code=404)
        return HTMLResponse(PLAYER_HTML.replace("{{camera_id}}", camera_id))

    async def status_route(_request: Request) -> Response:
        body: dict[str, object] = status() if status else {"cameras": sorted(cameras)}
        body["viewers"] = len(service.peers)
        return JSONResponse(body)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        yield
        await service.close()

    routes = [
        Route("/status", status_route, methods=["GET"]),
        Route("/live/{camera_id}/whep", whep, methods=["POST"]),
        Route("/public/{camera_id}/whep", whep, methods=["POST"]),
        Route("/live/{camera_id}/whep/{session}", hang_up, methods=["DELETE"]),
        Route("/public/{camera_id}/whep/{session}", hang_up, methods=["DELETE"]),
        Route("/live/{camera_id}/", page, methods=["GET"]),
        Route("/public/{camera_id}/", page, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.live = service
    return app


PLAYER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{camera_id}} live</title></head>
<body style="margin:0;background:#111">
<video id="v" autoplay muted playsinline style="width:100%"></video>
<script>
async function start() {
  const pc = new RTCPeerConnection({iceServers: []});
  pc.addTransceiver("video", {direction: "recvonly"});
  pc.ontrack = (e) => {
    document.getElementById("v").srcObject = e.streams[0] || new MediaStream([e.track]);
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((ok) => {
    if (pc.iceGatheringState === "complete") return ok();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && ok();
    setTimeout(ok, 2000);
  });
  const url = location.pathname.replace(/\\/$/, "") + "/whep" + location.search;
  const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/sdp"},
                              body: pc.localDescription.sdp});
  if (!r.ok) { document.body.dataset.error = r.status + " " + await r.text(); return; }
  await pc.setRemoteDescription({type: "answer", sdp: await r.text()});
  window.bkPeer = pc;
}
start().catch((e) => { document.body.dataset.error = String(e); });
</script></body></html>
"""
