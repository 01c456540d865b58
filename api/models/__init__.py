"""SQLAlchemy 2 models. Alembic (``api/migrations``) owns the schema; these mirror it."""

from __future__ import annotations

from api.models.audit import AuditEntry, AuditHead
from api.models.base import (
    LEVEL_ORDER,
    OPEN_RECTIFICATION,
    Base,
    EventStatus,
    MediaKind,
    RectificationStatus,
    RegionLevel,
    Role,
    SiteKind,
    utcnow,
)
from api.models.event import Event, EventMedia
from api.models.rectification import Rectification, RectificationPhoto
from api.models.site import Camera, Region, RuleOverride, Site, Zone
from api.models.user import User

# isort: split
# The alert tables (issue 9) live in api/alerts/outbox.py on this same Base; importing them here
# keeps Base.metadata (Alembic, test fixtures) complete whoever imports the models first.
import api.alerts.outbox  # noqa: F401,E402

__all__ = [
    "LEVEL_ORDER",
    "OPEN_RECTIFICATION",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Camera",
    "Event",
    "EventMedia",
    "EventStatus",
    "MediaKind",
    "Rectification",
    "RectificationPhoto",
    "RectificationStatus",
    "Region",
    "RegionLevel",
    "Role",
    "RuleOverride",
    "Site",
    "SiteKind",
    "User",
    "Zone",
    "utcnow",
]
