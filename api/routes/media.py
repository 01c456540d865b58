"""Clips and snapshots of events: HTTP range streaming, signed links for players, audited views."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api import audit
from api.audit import Actor
from api.deps import (
    UNAUTHORIZED,
    AnyUser,
    ScopedEvent,
    ServicesDep,
    SessionDep,
    get_principal,
    oauth2_scheme,
    scoped_event,
)
from api.media import UnsafePath, safe_path
from api.models import Event, EventMedia, MediaKind, Role, User
from api.routes.events import media_url
from api.schemas.common import errors
from api.scope import Principal
from api.security import InvalidToken

log = logging.getLogger("api.media")
router = APIRouter(tags=["events"])


class MediaLink(BaseModel):
    url: str
    expires_at: datetime


def media_viewer(
    event_id: uuid.UUID,
    kind: MediaKind,
    services: ServicesDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    access: Annotated[
        str | None, Query(max_length=2000, description="signed link token from `/media/{kind}/link`")
    ] = None,
) -> Principal:
    """The caller of a media request: a bearer token, or a signed link for exactly this file."""
    if token:
        p = get_principal(services, session, token)
    elif access:
        try:
            claims = services.media_links.decode(access)
        except InvalidToken:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "invalid or expired media link", UNAUTHORIZED
            ) from None
        if claims.event_id != event_id or claims.kind != kind.value:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the link is for another file", UNAUTHORIZED)
        user = session.scalar(select(User).options(joinedload(User.region)).where(User.id == claims.user_id))
        if user is None or not user.is_active:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "user unknown or disabled", UNAUTHORIZED)
        p = Principal.of(user)
    else:
        p = Principal.public()
    if p.role is Role.PUBLIC:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required", UNAUTHORIZED)
    return p


def stored_media(
    session: SessionDep, services: ServicesDep, event: Event, kind: MediaKind
) -> tuple[EventMedia, Path]:
    media = session.scalar(select(EventMedia).where(EventMedia.event_id == event.id, EventMedia.kind == kind))
    if media is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"event has no {kind.value}")
    try:
        path = safe_path(services.media_dir, media.rel_path)
    except UnsafePath:
        log.error("media row %s points outside the media root; refused", media.id)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{kind.value} not available") from None
    if not path.is_file():
        log.error("media file of row %s is missing", media.id)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{kind.value} file missing")
    return media, path


@router.get("/events/{event_id}/media/{kind}/link", responses=errors(401, 403, 404))
def media_link(
    kind: MediaKind, event: ScopedEvent, p: AnyUser, session: SessionDep, services: ServicesDep
) -> MediaLink:
    """A short-lived URL to this clip/snapshot for a browser ``<video src>`` (no header needed)."""
    stored_media(session, services, event, kind)
    assert p.user is not None
    token, expires = services.media_links.issue(p.user, event.id, kind.value)
    return MediaLink(url=f"{media_url(event.id, kind)}?{urlencode({'access': token})}", expires_at=expires)


@router.get(
    "/events/{event_id}/media/{kind}",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/mp4": {}, "image/jpeg": {}}, "description": "the whole file"},
        206: {"content": {"video/mp4": {}, "image/jpeg": {}}, "description": "the requested byte range"},
        **errors(401, 403, 404),
    },
)
def get_media(
    event_id: uuid.UUID,
    kind: MediaKind,
    p: Annotated[Principal, Depends(media_viewer)],
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> FileResponse:
    """Serve a clip or snapshot with HTTP range support (seeking); every request is audited.

    Authorized by a bearer token or by a signed ``access`` link; either way the caller's scope
    is checked now, so a link stops working when the user loses the site.
    """
    event = scoped_event(event_id, p, session)
    media, path = stored_media(session, services, event, kind)
    assert p.user is not None
    audit.append(
        session,
        actor=Actor.of(p.user),
        action=f"media.viewed.{kind.value}",
        object_type="event",
        object_id=str(event.id),
        site_id=event.site_id,
        details={
            "range": request.headers.get("range", "")[:100],
            "sha256": media.sha256,
            "via": "link"
            if "access" in request.query_params and "authorization" not in request.headers
            else "bearer",
        },
    )
    session.commit()
    return FileResponse(path, media_type=media.content_type, headers={"ETag": f'"{media.sha256}"'})
