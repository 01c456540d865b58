"""Live view of a camera through the API (WHEP): the API authorizes, the camera runtime streams.

- ``POST /cameras/{id}/live/whep``: anyone who may see the camera's site (admin, a regulator of
  its region, its staff) sends an SDP offer and gets the answer; every view is audited.
- ``POST /public/cameras/{id}/live/whep``: anonymous, only when the site consents
  (``public_live``); the runtime blurs every face.
- ``DELETE .../live/whep/{session}``: hang up (the ``Location`` of the answer).

Unknown cameras and cameras of other sites answer the same 404. The offer is forwarded by
``api.live.LiveProxy``; the media flows between the browser and the runtime, not through the API.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from api import audit
from api.audit import Actor
from api.deps import AnyUser, ScopedCamera, SessionDep, not_found
from api.live import SESSION_RE, LiveError, LiveProxy, LiveRoute
from api.models import Camera, Site
from api.schemas.common import errors

log = logging.getLogger("api.live")
router = APIRouter(tags=["live"])

MAX_OFFER_BYTES = 64_000  # a browser offer is a few kB
SDP = {"application/sdp": {"schema": {"type": "string"}}}
ANSWERED: dict[int | str, dict[str, Any]] = {
    201: {
        "content": SDP,
        "description": "the SDP answer; `Location` is the session to DELETE when done",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "the session's URL"}},
    },
    **errors(400, 404, 413, 415, 502, 503),
}
HUNG_UP: dict[int | str, dict[str, Any]] = {204: {"description": "session ended"}, **errors(404, 502, 503)}

OFFER_BODY = {"requestBody": {"required": True, "content": SDP, "description": "the SDP offer"}}


async def sdp_offer(request: Request) -> str:
    """The raw ``application/sdp`` body (declared after the authorization dependencies)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/sdp":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send the offer as Content-Type: application/sdp"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_OFFER_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the SDP offer is too large")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the SDP offer is not UTF-8 text") from None


Offer = Annotated[str, Depends(sdp_offer)]
SessionId = Annotated[str, Path(pattern=SESSION_RE, description="session id from the answer's Location")]


def get_live(request: Request) -> LiveProxy:
    live: LiveProxy = request.app.state.live
    return live


LiveDep = Annotated[LiveProxy, Depends(get_live)]


@dataclass(frozen=True, slots=True)
class Watched:
    """The camera a request may watch, read before the runtime is called."""

    id: uuid.UUID
    key: str
    site_id: uuid.UUID


def released(camera: Camera, session: Session) -> Watched:
    watched = Watched(camera.id, camera.key, camera.site_id)
    session.rollback()  # end the read: no pooled connection is held while the runtime answers
    return watched


def private_camera(camera: ScopedCamera, session: SessionDep) -> Watched:
    return released(camera, session)


def public_camera(camera_id: uuid.UUID, session: SessionDep) -> Watched:
    """A camera whose site consents to anonymous live view; any other answers 404."""
    camera = session.get(Camera, camera_id)
    site = session.get(Site, camera.site_id) if camera is not None else None
    if camera is None or site is None or not site.public_live:
        raise not_found("public live camera")
    return released(camera, session)


PrivateCamera = Annotated[Watched, Depends(private_camera)]
PublicCamera = Annotated[Watched, Depends(public_camera)]


def failed(exc: LiveError) -> HTTPException:
    return HTTPException(exc.status_code, exc.detail)


def answered(sdp: str, location: str) -> Response:
    return Response(sdp, status_code=201, media_type="application/sdp", headers={"Location": location})


@router.post(
    "/cameras/{camera_id}/live/whep",
    status_code=201,
    response_class=Response,
    responses={**ANSWERED, **errors(401, 403)},
    openapi_extra=OFFER_BODY,
)
def start_live_view(
    request: Request,
    p: AnyUser,
    camera: PrivateCamera,
    offer: Offer,
    session: SessionDep,
    live: LiveDep,
    overlay: Annotated[bool, Query(description="draw the latest detections")] = False,
) -> Response:
    """Watch a camera of a site you may see; the view is an audit entry."""
    try:
        answer = live.offer(LiveRoute.PRIVATE, camera.key, offer, overlay=overlay)
    except LiveError as exc:
        raise failed(exc) from None
    assert p.user is not None
    try:
        audit.append(
            session,
            actor=Actor.of(p.user),
            action="camera.live_viewed",
            object_type="camera",
            object_id=str(camera.id),
            site_id=camera.site_id,
            details={"session": answer.session, "overlay": overlay},
        )
        session.commit()
    except Exception:  # no unaudited view: end it before answering the error
        hang_up_quietly(live, LiveRoute.PRIVATE, camera.key, answer.session)
        raise
    url = request.url_for("stop_live_view", camera_id=str(camera.id), session=answer.session)
    return answered(answer.sdp, url.path)


@router.delete(
    "/cameras/{camera_id}/live/whep/{session}",
    status_code=204,
    response_class=Response,
    responses={**HUNG_UP, **errors(401, 403)},
)
def stop_live_view(session: SessionId, _p: AnyUser, camera: PrivateCamera, live: LiveDep) -> Response:
    return hang_up(live, LiveRoute.PRIVATE, camera.key, session)


@router.post(
    "/public/cameras/{camera_id}/live/whep",
    status_code=201,
    response_class=Response,
    responses=ANSWERED,
    openapi_extra=OFFER_BODY,
)
def start_public_live_view(request: Request, camera: PublicCamera, offer: Offer, live: LiveDep) -> Response:
    """Anonymous view of a camera whose site consents to it; every face is blurred by the runtime."""
    try:
        answer = live.offer(LiveRoute.PUBLIC, camera.key, offer)
    except LiveError as exc:
        raise failed(exc) from None
    url = request.url_for("stop_public_live_view", camera_id=str(camera.id), session=answer.session)
    return answered(answer.sdp, url.path)


@router.delete(
    "/public/cameras/{camera_id}/live/whep/{session}",
    status_code=204,
    response_class=Response,
    responses=HUNG_UP,
)
def stop_public_live_view(session: SessionId, camera: PublicCamera, live: LiveDep) -> Response:
    return hang_up(live, LiveRoute.PUBLIC, camera.key, session)


def hang_up(live: LiveProxy, route: LiveRoute, key: str, session: str) -> Response:
    try:
        ended = live.hang_up(route, key, session)
    except LiveError as exc:
        raise failed(exc) from None
    if not ended:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such live session (already ended?)")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def hang_up_quietly(live: LiveProxy, route: LiveRoute, key: str, session: str) -> None:
    try:
        live.hang_up(route, key, session)
    except LiveError:
        log.warning("could not end live session of camera %s after a failed audit", key)
