"""Cameras of a site, with the zones and rule overrides the rule engine reads."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api import audit
from api.audit import Actor
from api.deps import AdminUser, AnyUser, Reviewer, ScopedCamera, SessionDep
from api.models import Camera, RuleOverride, Site, Zone
from api.schemas.common import errors
from api.schemas.site import CameraCreate, CameraPublic, CameraRulesIn, CamerasPublic
from api.scope import site_filter
from vision.rule_config import RuleParams
from vision.rule_config import Zone as ZoneIn

router = APIRouter(tags=["cameras"])


def camera_public(c: Camera) -> CameraPublic:
    return CameraPublic(
        id=c.id,
        site_id=c.site_id,
        key=c.key,
        name=c.name,
        detect_url=c.detect_url,
        record_url=c.record_url,
        zones=[
            ZoneIn(
                name=z.name,
                polygon=[(x, y) for x, y in z.polygon],
                restricted=z.restricted,
                ignore_motion=z.ignore_motion,
            )
            for z in c.zones
        ],
        overrides={
            o.kind: RuleParams(
                enabled=o.enabled,
                min_duration_s=o.min_duration_s,
                grace_s=o.grace_s,
                cooldown_s=o.cooldown_s,
                severity=o.severity,
            )
            for o in c.overrides
        },
    )


@router.get("/cameras", responses=errors(401, 403))
def list_cameras(
    p: AnyUser,
    session: SessionDep,
    site_id: uuid.UUID | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CamerasPublic:
    stmt = select(Camera).where(site_filter(p, Camera.site_id))
    if site_id is not None:
        stmt = stmt.where(Camera.site_id == site_id)
    page = stmt.order_by(Camera.key).offset(offset).limit(limit)
    rows = session.scalars(page.options(selectinload(Camera.zones), selectinload(Camera.overrides))).all()
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return CamerasPublic(data=[camera_public(c) for c in rows], count=count)


@router.post("/cameras", status_code=201, responses=errors(400, 401, 403, 409))
def create_camera(body: CameraCreate, p: AdminUser, session: SessionDep) -> CameraPublic:
    if session.get(Site, body.site_id) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "site_id does not exist")
    if session.scalar(select(Camera.id).where(Camera.key == body.key)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera key {body.key!r} is taken")
    camera = Camera(**body.model_dump())
    session.add(camera)
    session.flush()
    assert p.user is not None
    audit.append(
        session,
        actor=Actor.of(p.user),
        action="camera.created",
        object_type="camera",
        object_id=str(camera.id),
        site_id=camera.site_id,
        details={"key": camera.key},
    )
    session.commit()
    session.refresh(camera)
    return camera_public(camera)


@router.get("/cameras/{camera_id}", responses=errors(401, 403, 404))
def get_camera(camera: ScopedCamera) -> CameraPublic:
    return camera_public(camera)


@router.put("/cameras/{camera_id}/rules", responses=errors(400, 401, 403, 404))
def put_camera_rules(
    body: CameraRulesIn, p: Reviewer, camera: ScopedCamera, session: SessionDep
) -> CameraPublic:
    """Replace the camera's zones and overrides as a whole (what you send is what it watches)."""
    names = [z.name for z in body.zones]
    if len(set(names)) != len(names):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "zone names must be unique per camera")
    camera.zones.clear()
    camera.overrides.clear()
    session.flush()
    for z in body.zones:
        camera.zones.append(
            Zone(
                name=z.name,
                polygon=[[x, y] for x, y in z.polygon],
                restricted=z.restricted,
                ignore_motion=z.ignore_motion,
            )
        )
    for kind, params in body.overrides.items():
        camera.overrides.append(
            RuleOverride(
                kind=kind,
                enabled=params.enabled,
                min_duration_s=params.min_duration_s,
                grace_s=params.grace_s,
                cooldown_s=params.cooldown_s,
                severity=params.severity,
            )
        )
    assert p.user is not None
    audit.append(
        session,
        actor=Actor.of(p.user),
        action="camera.rules_set",
        object_type="camera",
        object_id=str(camera.id),
        site_id=camera.site_id,
        details={"zones": len(body.zones), "overrides": len(body.overrides)},
    )
    session.commit()
    session.refresh(camera)
    return camera_public(camera)
