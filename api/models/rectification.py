"""Rectification orders (整改) and the photos a site sends back (复核)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, Created, RectificationStatus, UTCDateTime, UUIDKey, str_enum
from api.models.event import Event
from api.models.site import Region


class Rectification(UUIDKey, Created, Base):
    """``ordered → submitted → accepted | rejected``; ``responsible_region_id`` starts at the
    site's region and moves one level up each time the order is overdue (escalation)."""

    __tablename__ = "rectifications"
    __table_args__ = (
        Index("ix_rectifications_site_status", "site_id", "status", "deadline_at"),
        Index("ix_rectifications_status_deadline", "status", "deadline_at"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[RectificationStatus] = mapped_column(
        str_enum(RectificationStatus, "rectification_status"), default=RectificationStatus.ORDERED
    )
    instructions: Mapped[str] = mapped_column(Text)
    ordered_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reply_text: Mapped[str | None] = mapped_column(Text)
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_result: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    responsible_region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    responsible_region: Mapped[Region] = relationship()
    photos: Mapped[list[RectificationPhoto]] = relationship(
        order_by="RectificationPhoto.created_at", lazy="selectin"
    )


class RectificationPhoto(UUIDKey, Created, Base):
    """A re-encoded JPEG (metadata stripped) stored under the media root with its hash."""

    __tablename__ = "rectification_photos"

    rectification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rectifications.id", ondelete="CASCADE"), index=True
    )
    rel_path: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(64), default="image/jpeg")
