"""Region tree, sites and cameras (with zones and rule overrides)."""

from __future__ import annotations

import uuid
from datetime import time

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, Time, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, Created, RegionLevel, SiteKind, UUIDKey, str_enum
from vision.kinds import Severity, ViolationKind


class Region(UUIDKey, Created, Base):
    """A node of province → city → district → street.

    ``path`` is the chain of ids from the root (``/<hex>/<hex>/``): a regulator's scope is every
    region whose path starts with theirs, one indexed prefix match instead of a recursive query.
    """

    __tablename__ = "regions"

    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel, "region_level"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), unique=True)

    parent: Mapped[Region | None] = relationship(remote_side="Region.id")


class Site(UUIDKey, Created, Base):
    __tablename__ = "sites"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, "site_kind"))
    licence_no: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    work_start: Mapped[time] = mapped_column(Time, default=time(6, 0))
    work_end: Mapped[time] = mapped_column(Time, default=time(20, 0))
    public_display: Mapped[bool] = mapped_column(Boolean, default=False)
    # Consent to anonymous live view (every face blurred); the runtime's ``public_live`` must agree.
    public_live: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    region: Mapped[Region] = relationship()


class Camera(UUIDKey, Created, Base):
    """A stream at a site. ``key`` is the camera id the vision layer puts on its events."""

    __tablename__ = "cameras"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    detect_url: Mapped[str] = mapped_column(Text, default="")
    record_url: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site] = relationship()
    # Loaded on access (or with selectinload in lists): most readers of a camera need only its key.
    zones: Mapped[list[Zone]] = relationship(cascade="all, delete-orphan", order_by="Zone.name")
    overrides: Mapped[list[RuleOverride]] = relationship(
        cascade="all, delete-orphan", order_by="RuleOverride.kind"
    )


class Zone(UUIDKey, Base):
    """A polygon in normalized coordinates; the point list is one value, not a relation."""

    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("camera_id", "name"),)

    camera_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    polygon: Mapped[list[list[float]]] = mapped_column(JSON)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    ignore_motion: Mapped[bool] = mapped_column(Boolean, default=False)


class RuleOverride(UUIDKey, Base):
    __tablename__ = "rule_overrides"
    __table_args__ = (UniqueConstraint("camera_id", "kind"),)

    camera_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ViolationKind] = mapped_column(str_enum(ViolationKind, "override_kind"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    min_duration_s: Mapped[float] = mapped_column(Float)
    grace_s: Mapped[float] = mapped_column(Float)
    cooldown_s: Mapped[float] = mapped_column(Float)
    severity: Mapped[Severity | None] = mapped_column(str_enum(Severity, "override_severity"))
