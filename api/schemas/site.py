from __future__ import annotations

import uuid
from datetime import time

from pydantic import BaseModel, Field

from api.models import RegionLevel, SiteKind
from api.schemas.common import Orm
from vision.kinds import ViolationKind
from vision.rule_config import RuleParams, Zone


class RegionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
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
    name: str = Field(min_length=1, max_length=200)
    kind: SiteKind
    licence_no: str = Field(min_length=1, max_length=64)
    address: str = Field(min_length=1, max_length=300)
    work_start: time = time(6, 0)
    work_end: time = time(20, 0)
    public_display: bool = False


class SiteCreate(SiteBase):
    region_id: uuid.UUID


class SiteUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    work_start: time | None = None
    work_end: time | None = None
    public_display: bool | None = None


class SitePublic(SiteBase, Orm):
    id: uuid.UUID
    region_id: uuid.UUID


class SitesPublic(BaseModel):
    data: list[SitePublic]
    count: int


class CameraCreate(BaseModel):
    site_id: uuid.UUID
    key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(min_length=1, max_length=120)
    detect_url: str = Field(default="", max_length=2000)
    record_url: str | None = Field(default=None, max_length=2000)


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
