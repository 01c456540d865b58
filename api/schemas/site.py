from __future__ import annotations

import re
import uuid
from datetime import time
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from api.models import RegionLevel, SiteKind
from api.schemas.common import Orm, text
from vision.kinds import ViolationKind
from vision.rule_config import RuleParams, Zone

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(HHMM, value):
        return time(int(value[:2]), int(value[3:]))
    raise ValueError("use a 24-hour local clock time HH:MM, e.g. 06:30")


# Local wall-clock time of the site (working hours), written "HH:MM" both ways.
ClockTime = Annotated[
    time,
    BeforeValidator(_clock),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": HHMM, "examples": ["06:00"]}),
]


class RegionCreate(BaseModel):
    name: str = text(1, 120)
    level: RegionLevel
    parent_id: uuid.UUID | None = None


class RegionPublic(Orm):
    id: uuid.UUID
    name: str
    level: RegionLevel
    parent_id: uuid.UUID | None


class RegionsPublic(BaseModel):
    data: list[RegionPublic]
    count: int


class SiteBase(BaseModel):
    name: str = text(1, 200)
    kind: SiteKind
    licence_no: str = text(1, 64)
    address: str = text(1, 300)
    work_start: ClockTime = time(6, 0)
    work_end: ClockTime = time(20, 0)
    public_display: bool = False
    public_live: bool = False  # anonymous live view, faces blurred (docs/cameras.md)


class SiteCreate(SiteBase):
    region_id: uuid.UUID


class SiteUpdate(BaseModel):
    name: str | None = text(1, 200, default=None)
    address: str | None = text(1, 300, default=None)
    work_start: ClockTime | None = None
    work_end: ClockTime | None = None
    public_display: bool | None = None
    public_live: bool | None = None


class SitePublic(SiteBase, Orm):
    id: uuid.UUID
    region_id: uuid.UUID


class SitesPublic(BaseModel):
    data: list[SitePublic]
    count: int


class CameraCreate(BaseModel):
    site_id: uuid.UUID
    key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = text(1, 120)
    detect_url: str = text(0, 2000, default="")
    record_url: str | None = text(0, 2000, default=None)


class CameraRulesIn(BaseModel):
    """Zones and per-kind overrides, validated by the same models the rule engine reads."""

    zones: list[Zone] = Field(default_factory=list, max_length=32)
    overrides: dict[ViolationKind, RuleParams] = Field(default_factory=dict)


class CameraPublic(Orm):
    id: uuid.UUID
    site_id: uuid.UUID
    key: str
    name: str
    detect_url: str
    record_url: str | None
    zones: list[Zone]
    overrides: dict[ViolationKind, RuleParams]


class CamerasPublic(BaseModel):
    data: list[CameraPublic]
    count: int
