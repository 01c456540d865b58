"""The review queue, one event with its media metadata, and the review decision."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime
from sqlalchemy import func, select

from api.deps import (
    AnyUser,
    Reviewer,
    ScopedEvent,
    SessionDep,
)
from api.models import (
    Camera,
    Event,
    EventStatus,
    MediaKind,
    Rectification,
    Site,
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
from api.scope import site_filter
from vision.kinds import Severity, ViolationKind

log = logging.getLogger("api.events")
SUMMARY_FIELDS = tuple(EventSummary.model_fields)
COUNT_CAP = 10_000
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
    # Counting stops at COUNT_CAP: a queue of 10 000+ needs no exact figure, and an exact count
    # of a province's backlog would cost more than the page itself.
    capped = stmt.with_only_columns(Event.id).limit(COUNT_CAP + 1).subquery()
    count = session.scalar(select(func.count()).select_from(capped)) or 0
    # Page ids first (index-only in PostgreSQL), then the rows of just that page by id.
    order = (Event.started_at.desc(), Event.id.desc())
    ids = session.scalars(stmt.with_only_columns(Event.id).order_by(*order).offset(offset).limit(limit)).all()
    columns = [getattr(Event, name) for name in SUMMARY_FIELDS]  # plain rows: no ORM identity map per event
    rows = {row.id: row for row in session.execute(select(*columns).where(Event.id.in_(ids)))} if ids else {}
    return EventsPublic(
        data=[EventSummary(**rows[i]._mapping) for i in ids if i in rows],
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )


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
