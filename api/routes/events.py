"""The review queue, one event with its media, the review decision, and media streaming."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from api import audit
from api.audit import Actor
from api.deps import (
    UNAUTHORIZED,
    AnyUser,
    Reviewer,
    ScopedEvent,
    ServicesDep,
    SessionDep,
    get_principal,
    oauth2_scheme,
    scoped_event,
)
from api.media import UnsafePath, safe_path
from api.models import (
    Camera,
    Event,
    EventMedia,
    EventStatus,
    MediaKind,
    Rectification,
    Role,
    Site,
    User,
    utcnow,
)
from api.review import Conflict, review_event
from api.schemas.common import errors
from api.schemas.event import (
    EventPublic,
    EventReview,
    EventsPublic,
    EventSummary,
    MediaPublic,
    RectificationBrief,
)
from api.scope import Principal, site_filter
from api.security import InvalidToken
from vision.kinds import Severity, ViolationKind

log = logging.getLogger("api.events")
SUMMARY_FIELDS = tuple(EventSummary.model_fields)
router = APIRouter(tags=["events"])


@router.get("/events", responses=errors(401, 403))
def review_queue(
    p: AnyUser,
    session: SessionDep,
    status_: Annotated[EventStatus | None, Query(alias="status")] = None,
    kind: ViolationKind | None = None,
    severity: Severity | None = None,
    site_id: uuid.UUID | None = None,
    camera_id: uuid.UUID | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EventsPublic:
    """Events the caller may see, newest first; regulators filter ``status=pending`` to review."""
    stmt = select(Event).where(site_filter(p, Event.site_id))
    for column, value in (
        (Event.status, status_),
        (Event.kind, kind),
        (Event.severity, severity),
        (Event.site_id, site_id),
        (Event.camera_id, camera_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(Event.started_at >= since)
    if until is not None:
        stmt = stmt.where(Event.started_at < until)
    count = session.scalar(stmt.with_only_columns(func.count())) or 0
    columns = [getattr(Event, name) for name in SUMMARY_FIELDS]  # plain rows: no ORM identity map per event
    page = stmt.with_only_columns(*columns).order_by(Event.started_at.desc(), Event.id.desc())
    rows = session.execute(page.offset(offset).limit(limit)).all()
    return EventsPublic(data=[EventSummary(**row._mapping) for row in rows], count=count)


def media_url(event_id: uuid.UUID, kind: MediaKind) -> str:
    return f"/api/events/{event_id}/media/{kind.value}"


def event_public(session: SessionDep, event: Event) -> EventPublic:
    camera_key, site_name = session.execute(
        select(Camera.key, Site.name)
        .join(Site, Camera.site_id == Site.id)
        .where(Camera.id == event.camera_id)
    ).one()
    rects = session.scalars(
        select(Rectification).where(Rectification.event_id == event.id).order_by(Rectification.ordered_at)
    ).all()
    base = EventSummary.model_validate(event).model_dump()
    return EventPublic(
        **base,
        camera_key=camera_key,
        site_name=site_name,
        track_id=event.track_id,
        updated_at=event.updated_at,
        xyxy=(event.x1, event.y1, event.x2, event.y2),
        model_version=event.model_version,
        rule_version=event.rule_version,
        review_reason=event.review_reason,
        reviewed_by_id=event.reviewed_by_id,
        reviewed_at=event.reviewed_at,
        media=[
            MediaPublic(
                kind=m.kind,
                sha256=m.sha256,
                size_bytes=m.size_bytes,
                content_type=m.content_type,
                url=media_url(event.id, m.kind),
            )
            for m in event.media
        ],
        rectifications=[RectificationBrief.model_validate(r) for r in rects],
    )


@router.get("/events/{event_id}", responses=errors(401, 403, 404))
def get_event(event: ScopedEvent, session: SessionDep) -> EventPublic:
    return event_public(session, event)


@router.post("/events/{event_id}/review", responses=errors(401, 403, 404, 409))
def review(body: EventReview, p: Reviewer, event: ScopedEvent, session: SessionDep) -> EventPublic:
    """Confirm or dismiss a pending event; the reason goes to the audit log with it."""
    assert p.user is not None
    try:
        review_event(session, event, p.user, body.decision, body.reason, utcnow())
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    return event_public(session, event)


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
