"""Regions, sites: the tree regulators are scoped by, and the kitchens under it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func, select

from api import audit
from api.audit import Actor
from api.deps import AdminUser, AnyUser, Reviewer, ScopedSite, SessionDep
from api.models import LEVEL_ORDER, Region, RegionLevel, Role, Site, SiteKind
from api.schemas.common import errors
from api.schemas.site import (
    RegionCreate,
    RegionPublic,
    RegionsPublic,
    SiteCreate,
    SitePublic,
    SitesPublic,
    SiteUpdate,
)
from api.scope import region_filter, site_filter

router = APIRouter(tags=["sites"])
STAFF_EDITABLE = frozenset({"public_display", "public_live", "work_start", "work_end"})
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/regions", responses=errors(401, 403))
def list_regions(p: Reviewer, session: SessionDep, offset: Offset = 0, limit: Limit = 200) -> RegionsPublic:
    """The caller's subtree (all of it for admins), parents before children."""
    where = region_filter(p)
    rows = session.scalars(
        select(Region).where(where).order_by(Region.path).offset(offset).limit(limit)
    ).all()
    count = session.scalar(select(func.count()).select_from(Region).where(where)) or 0
    return RegionsPublic(data=[RegionPublic.model_validate(r) for r in rows], count=count)


def new_region(session: SessionDep, body: RegionCreate) -> Region:
    region_id = uuid.uuid4()
    if body.parent_id is None:
        if body.level is not RegionLevel.PROVINCE:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "only a province has no parent")
        return Region(
            id=region_id, name=body.name, level=body.level, parent_id=None, path=f"/{region_id.hex}/"
        )
    parent = session.get(Region, body.parent_id)
    if parent is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "parent_id does not exist")
    depth = LEVEL_ORDER.index(parent.level)
    if depth + 1 >= len(LEVEL_ORDER) or LEVEL_ORDER[depth + 1] is not body.level:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"a {parent.level.value} cannot hold a {body.level.value}"
        )
    return Region(
        id=region_id,
        name=body.name,
        level=body.level,
        parent_id=parent.id,
        path=f"{parent.path}{region_id.hex}/",
    )


@router.post("/regions", status_code=201, responses=errors(400, 401, 403))
def create_region(body: RegionCreate, p: AdminUser, session: SessionDep) -> RegionPublic:
    region = new_region(session, body)
    session.add(region)
    session.flush()
    assert p.user is not None
    audit.append(
        session,
        actor=Actor.of(p.user),
        action="region.created",
        object_type="region",
        object_id=str(region.id),
    )
    session.commit()
    return RegionPublic.model_validate(region)


@router.get("/sites", responses=errors(401, 403))
def list_sites(
    p: AnyUser,
    session: SessionDep,
    kind: SiteKind | None = None,
    region_id: uuid.UUID | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> SitesPublic:
    stmt = select(Site).where(site_filter(p, Site.id))
    if kind is not None:
        stmt = stmt.where(Site.kind == kind)
    if region_id is not None:
        path = session.scalar(select(Region.path).where(Region.id == region_id)) or "/nowhere/"
        stmt = stmt.join(Region, Site.region_id == Region.id).where(
            Region.path.startswith(path, autoescape=True)
        )
    rows = session.scalars(stmt.order_by(Site.name, Site.id).offset(offset).limit(limit)).all()
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return SitesPublic(data=[SitePublic.model_validate(s) for s in rows], count=count)


@router.post("/sites", status_code=201, responses=errors(400, 401, 403, 409))
def create_site(body: SiteCreate, p: AdminUser, session: SessionDep) -> SitePublic:
    if session.get(Region, body.region_id) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "region_id does not exist")
    if session.scalar(select(Site.id).where(Site.licence_no == body.licence_no)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"licence {body.licence_no!r} is already registered")
    site = Site(**body.model_dump())
    session.add(site)
    session.flush()
    assert p.user is not None
    audit.append(
        session,
        actor=Actor.of(p.user),
        action="site.created",
        object_type="site",
        object_id=str(site.id),
        site_id=site.id,
    )
    session.commit()
    return SitePublic.model_validate(site)


@router.get("/sites/{site_id}", responses=errors(401, 403, 404))
def get_site(site: ScopedSite) -> SitePublic:
    return SitePublic.model_validate(site)


@router.patch("/sites/{site_id}", responses=errors(401, 403, 404))
def update_site(body: SiteUpdate, p: AnyUser, site: ScopedSite, session: SessionDep) -> SitePublic:
    """Admins and regulators edit any field; the site's own staff decide its consents (public
    display, public live view) and working hours (name and address are registration data, not
    theirs to change)."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if p.role is Role.SITE_STAFF and not changes.keys() <= STAFF_EDITABLE:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"site staff may change only {', '.join(sorted(STAFF_EDITABLE))}"
        )
    for name, value in changes.items():
        setattr(site, name, value)
    assert p.user is not None
    audit.append(
        session,
        actor=Actor.of(p.user),
        action="site.updated",
        object_type="site",
        object_id=str(site.id),
        site_id=site.id,
        details={k: str(v) for k, v in changes.items()},
    )
    session.commit()
    return SitePublic.model_validate(site)
