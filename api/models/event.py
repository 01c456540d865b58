"""Violation events (one per subject and kind) and their stored media."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, Created, EventStatus, MediaKind, UTCDateTime, UUIDKey, str_enum
from api.models.site import Camera, Site
from vision.kinds import Severity, ViolationKind


class Event(Created, Base):
    """The id is the vision event's id, so replaying an event lands on the same row.

    ``site_id`` repeats the camera's site on purpose: every scope check and the review queue
    filter by site, and the queue index ``(site_id, status, started_at)`` serves them directly.
    """

    __tablename__ = "events"
    __table_args__ = (
        # INCLUDE lets PostgreSQL count and page a filtered queue (severity/kind) from the index
        # alone (index-only scan); the page's rows are then fetched by id.
        Index(
            "ix_events_queue",
            "site_id",
            "status",
            "started_at",
            postgresql_include=["severity", "kind", "id"],
        ),
        Index("ix_events_status_started", "status", "started_at"),
        Index("ix_events_camera_started", "camera_id", "started_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[ViolationKind] = mapped_column(str_enum(ViolationKind, "event_kind"))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "event_severity"))
    camera_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cameras.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    track_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confidence: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(120), default="")
    rule_version: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus, "event_status"), default=EventStatus.PENDING
    )
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    camera: Mapped[Camera] = relationship()
    site: Mapped[Site] = relationship()
    media: Mapped[list[EventMedia]] = relationship(order_by="EventMedia.kind")


class EventMedia(UUIDKey, Created, Base):
    """A clip or snapshot copied under the media root; ``sha256`` proves it was not altered."""

    __tablename__ = "event_media"
    __table_args__ = (UniqueConstraint("event_id", "kind"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[MediaKind] = mapped_column(str_enum(MediaKind, "media_kind"))
    rel_path: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(64))
