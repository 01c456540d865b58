"""Tiers (分级分色): who hears about an alert, and how soon, by severity colour.

Defaults (any region may override them in the tiers YAML, ``BK_ALERTS_TIERS_FILE``):

==========  ==============  ====================
severity    site            regulator
==========  ==============  ====================
red         immediately     immediately
orange      immediately     hourly digest
yellow      daily digest    daily digest
==========  ==============  ====================

A region's override applies to its whole subtree; the deepest configured region wins. Regions are
named by id (hex, as in the region path; dashes are ignored).
Example YAML::

    default: {digest_timezone: Asia/Shanghai, daily_digest_at: "08:00"}
    regions:
      "5f0c2a9e4b7d4d1e9a3b6c7d8e9f0a1b": {orange: {site: immediate, regulator: immediate}}
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vision.kinds import Severity


class Audience(StrEnum):
    SITE = "site"
    REGULATOR = "regulator"


class Cadence(StrEnum):
    IMMEDIATE = "immediate"
    HOURLY = "hourly"
    DAILY = "daily"
    NEVER = "never"


class TierRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    site: Cadence
    regulator: Cadence

    def cadence(self, audience: Audience) -> Cadence:
        return self.site if audience is Audience.SITE else self.regulator


class TierPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    red: TierRule = TierRule(site=Cadence.IMMEDIATE, regulator=Cadence.IMMEDIATE)
    orange: TierRule = TierRule(site=Cadence.IMMEDIATE, regulator=Cadence.HOURLY)
    yellow: TierRule = TierRule(site=Cadence.DAILY, regulator=Cadence.DAILY)
    digest_timezone: str = "Asia/Shanghai"
    daily_digest_at: time = time(8, 0)

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (KeyError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    def rule(self, severity: Severity) -> TierRule:
        return {Severity.RED: self.red, Severity.ORANGE: self.orange, Severity.YELLOW: self.yellow}[severity]

    def due_at(self, severity: Severity, audience: Audience, now: datetime) -> datetime | None:
        """When a delivery to ``audience`` is due: ``now``, the next digest time, or None (never)."""
        cadence = self.rule(severity).cadence(audience)
        if cadence is Cadence.IMMEDIATE:
            return now
        if cadence is Cadence.NEVER:
            return None
        local = now.astimezone(ZoneInfo(self.digest_timezone))
        if cadence is Cadence.HOURLY:
            nxt = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        else:
            nxt = local.replace(
                hour=self.daily_digest_at.hour, minute=self.daily_digest_at.minute, second=0, microsecond=0
            )
            if nxt <= local:
                nxt += timedelta(days=1)
        return nxt.astimezone(UTC)


class TierConfig(BaseModel):
    """The default policy plus overrides keyed by region code (applied to the subtree)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: TierPolicy = Field(default_factory=TierPolicy)
    regions: dict[str, TierPolicy] = Field(default_factory=dict)

    def policy_for(self, region_path: Sequence[str]) -> TierPolicy:
        for code in reversed(region_path):
            if code in self.regions:
                return self.regions[code]
        return self.default

    @classmethod
    def load(cls, path: Path | None) -> TierConfig:
        """Read the YAML file, or the defaults when ``path`` is None. Region entries inherit the
        file's ``default`` for anything they leave out."""
        if path is None:
            return cls()
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping with 'default' and 'regions'")
        default = TierPolicy.model_validate(raw.get("default") or {})
        base = default.model_dump()
        regions = {
            str(code).replace("-", "").lower(): TierPolicy.model_validate({**base, **(over or {})})
            for code, over in (raw.get("regions") or {}).items()
        }
        extra = set(raw) - {"default", "regions"}
        if extra:
            raise ValueError(f"{path}: unknown keys {sorted(extra)}")
        return cls(default=default, regions=regions)
