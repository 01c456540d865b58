"""Who may see which site: the one place that turns a principal into a filter.

Admins see everything; a regulator sees the sites of their region and every region below it;
site staff see their own site; the public sees no internal resource. Out-of-scope resources
answer 404, exactly like missing ones, so ids of other sites leak nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.models import Region, Role, Site, User


@dataclass(frozen=True, slots=True)
class Principal:
    user: User | None
    role: Role
    region_id: uuid.UUID | None = None
    region_path: str | None = None
    site_id: uuid.UUID | None = None

    @staticmethod
    def public() -> Principal:
        return Principal(None, Role.PUBLIC)

    @staticmethod
    def of(user: User) -> Principal:
        region = user.region
        return Principal(
            user,
            user.role,
            region_id=region.id if region else None,
            region_path=region.path if region else None,
            site_id=user.site_id,
        )

    @property
    def username(self) -> str:
        return self.user.username if self.user else "public"


def regions_under(path: str) -> ColumnElement[bool]:
    return Region.path.startswith(path, autoescape=True)


def site_filter(p: Principal, column: InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
    """A WHERE clause limiting ``column`` (a site id column) to what ``p`` may see."""
    if p.role is Role.ADMIN:
        return true()
    if p.role is Role.REGULATOR and p.region_path:
        in_scope = (
            select(Site.id).join(Region, Site.region_id == Region.id).where(regions_under(p.region_path))
        )
        return column.in_(in_scope)
    if p.role is Role.SITE_STAFF and p.site_id:
        return column == p.site_id
    return false()


def region_filter(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.ADMIN:
        return true()
    if p.role is Role.REGULATOR and p.region_path:
        return regions_under(p.region_path)
    return false()


def can_see_site(session: Session, p: Principal, site_id: uuid.UUID) -> bool:
    if p.role is Role.ADMIN:
        return True
    if p.role is Role.SITE_STAFF:
        return p.site_id == site_id
    if p.role is Role.REGULATOR and p.region_path:
        path = session.scalar(
            select(Region.path).join(Site, Site.region_id == Region.id).where(Site.id == site_id)
        )
        return path is not None and path.startswith(p.region_path)
    return False
