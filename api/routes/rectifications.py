"""Rectification orders: ordered by a regulator, answered by the site with photos, re-checked."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile, status
from fastapi.responses import FileResponse
from sqlalchemy import func, select

from api.deps import AnyUser, Reviewer, ScopedEvent, ScopedRectification, ServicesDep, SessionDep, StaffUser
from api.media import BadPhoto, UnsafePath, reencode_photo, safe_path, write_bytes
from api.models import Rectification, RectificationPhoto, RectificationStatus, utcnow
from api.review import Conflict, order_rectification, recheck_rectification, submit_rectification
from api.schemas.common import NO_NUL, errors
from api.schemas.event import (
    RectificationOrder,
    RectificationPublic,
    RectificationReview,
    RectificationsPublic,
)
from api.scope import site_filter
from api.services import Services

log = logging.getLogger("api.rectifications")
router = APIRouter(tags=["rectifications"])


def conflict(exc: Conflict) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


@router.post("/events/{event_id}/rectifications", status_code=201, responses=errors(401, 403, 404, 409))
def order(
    body: RectificationOrder, p: Reviewer, event: ScopedEvent, session: SessionDep
) -> RectificationPublic:
    """Order the site to fix a confirmed violation; the deadline defaults by severity."""
    assert p.user is not None
    try:
        rect = order_rectification(session, event, p.user, body.instructions, body.deadline_at, utcnow())
    except Conflict as exc:
        raise conflict(exc) from None
    session.commit()
    return RectificationPublic.model_validate(rect)


@router.get("/rectifications", responses=errors(401, 403))
def list_rectifications(
    p: AnyUser,
    session: SessionDep,
    status_: Annotated[RectificationStatus | None, Query(alias="status")] = None,
    overdue: bool = False,
    assigned_to_me: Annotated[
        bool, Query(description="only those escalated to the caller's own region")
    ] = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RectificationsPublic:
    stmt = select(Rectification).where(site_filter(p, Rectification.site_id))
    if status_ is not None:
        stmt = stmt.where(Rectification.status == status_)
    if overdue:
        stmt = stmt.where(
            Rectification.status == RectificationStatus.ORDERED, Rectification.deadline_at < utcnow()
        )
    if assigned_to_me:
        stmt = stmt.where(Rectification.responsible_region_id == p.region_id)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Rectification.deadline_at, Rectification.id).offset(offset).limit(limit)
    )
    return RectificationsPublic(data=[RectificationPublic.model_validate(r) for r in rows], count=count)


@router.get("/rectifications/{rectification_id}", responses=errors(401, 403, 404))
def get_rectification(rect: ScopedRectification) -> RectificationPublic:
    return RectificationPublic.model_validate(rect)


def read_limited(upload: UploadFile, limit: int) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"photo {upload.filename!r} is over {limit} bytes"
        )
    return data


def store_photos(services: Services, rect: Rectification, raw: list[bytes]) -> list[RectificationPhoto]:
    photos = []
    for data in raw:
        try:
            photo = reencode_photo(data, services.settings.upload_max_pixels)
        except BadPhoto as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
        photo_id = uuid.uuid4()
        stored = write_bytes(
            services.media_dir,
            f"rectifications/{rect.site_id}/{rect.id}/{photo_id}.jpg",
            photo.jpeg,
            "image/jpeg",
        )
        photos.append(
            RectificationPhoto(
                id=photo_id,
                rel_path=stored.rel_path,
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                width=photo.width,
                height=photo.height,
                content_type=stored.content_type,
            )
        )
    return photos


@router.post(
    "/rectifications/{rectification_id}/submission", responses=errors(400, 401, 403, 404, 409, 413, 415)
)
def submit(
    reply_text: Annotated[str, Form(min_length=1, max_length=4000, pattern=NO_NUL)],
    photos: Annotated[list[UploadFile], File(description="JPEG, PNG or WebP; re-encoded to JPEG")],
    p: StaffUser,
    rect: ScopedRectification,
    session: SessionDep,
    services: ServicesDep,
) -> RectificationPublic:
    """The site's answer: what was done, with photos (size/type limited, re-encoded, hashed)."""
    if not photos or len(photos) > services.settings.upload_max_files:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"send 1 to {services.settings.upload_max_files} photos"
        )
    if rect.status is not RectificationStatus.ORDERED:
        raise HTTPException(status.HTTP_409_CONFLICT, f"rectification is {rect.status.value}, not ordered")
    raw = [read_limited(f, services.settings.upload_max_bytes) for f in photos]
    stored = store_photos(services, rect, raw)
    assert p.user is not None
    try:
        submit_rectification(session, rect, p.user, reply_text, stored, utcnow())
    except Conflict as exc:
        raise conflict(exc) from None
    session.commit()
    return RectificationPublic.model_validate(rect)


@router.post("/rectifications/{rectification_id}/review", responses=errors(401, 403, 404, 409))
def recheck(
    body: RectificationReview, p: Reviewer, rect: ScopedRectification, session: SessionDep
) -> RectificationPublic:
    """The regulator's re-check (复核) of a submitted rectification: accept or reject."""
    assert p.user is not None
    try:
        recheck_rectification(session, rect, p.user, body.decision, body.result, utcnow())
    except Conflict as exc:
        raise conflict(exc) from None
    session.commit()
    return RectificationPublic.model_validate(rect)


@router.get(
    "/rectifications/{rectification_id}/photos/{photo_id}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "the re-encoded photo"},
        **errors(401, 403, 404),
    },
)
def get_photo(
    photo_id: uuid.UUID, rect: ScopedRectification, p: AnyUser, session: SessionDep, services: ServicesDep
) -> FileResponse:
    photo = session.get(RectificationPhoto, photo_id)
    if photo is None or photo.rectification_id != rect.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "photo not found")
    try:
        path = safe_path(services.media_dir, photo.rel_path)
    except UnsafePath:
        log.error("photo row %s points outside the media root; refused", photo.id)
        raise HTTPException(status.HTTP_404_NOT_FOUND, "photo not available") from None
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "photo file missing")
    return FileResponse(path, media_type="image/jpeg")
