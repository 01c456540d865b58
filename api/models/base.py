"""Declarative base, the UTC time type and the enums every table shares.

Times are stored as UTC and always come back timezone-aware, also on SQLite (which keeps no
zone): a naive datetime is refused on write so local wall time never sneaks into evidence.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that refuses naive values and returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass a timezone-aware time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def str_enum(cls: type[StrEnum], name: str) -> Enum:
    """A VARCHAR + CHECK enum storing the values (portable between SQLite and PostgreSQL)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UUIDKey:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Created:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"


LEVEL_ORDER: tuple[RegionLevel, ...] = tuple(RegionLevel)


class SiteKind(StrEnum):
    SCHOOL_CANTEEN = "school_canteen"
    RESTAURANT = "restaurant"
    CENTRAL_KITCHEN = "central_kitchen"


class Role(StrEnum):
    ADMIN = "admin"
    REGULATOR = "regulator"
    SITE_STAFF = "site_staff"
    PUBLIC = "public"  # anonymous callers; never stored on a user row


class EventStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class MediaKind(StrEnum):
    CLIP = "clip"
    SNAPSHOT = "snapshot"


class RectificationStatus(StrEnum):
    ORDERED = "ordered"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


OPEN_RECTIFICATION = (RectificationStatus.ORDERED, RectificationStatus.SUBMITTED)
