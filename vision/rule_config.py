"""Rule parameters per violation kind, and per-camera configuration (zones, working hours).

The same defaults decide the synthetic ground truth (``vision.synth``) and the live rule engine,
so "an event starts when a violation has lasted ``min_duration_s`` and ends after ``grace_s`` of
absence" means one thing everywhere. Sites override them per camera.
"""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vision.kinds import DEFAULT_SEVERITY, Severity, ViolationKind


class RuleParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_duration_s: float = Field(default=2.0, ge=0.0, le=600.0)
    grace_s: float = Field(default=2.0, ge=0.0, le=600.0)
    cooldown_s: float = Field(default=30.0, ge=0.0, le=86400.0)
    severity: Severity | None = None  # None: the kind's default colour


DEFAULT_RULES: dict[ViolationKind, RuleParams] = {
    ViolationKind.NO_HAT: RuleParams(min_duration_s=2.0, grace_s=2.0),
    ViolationKind.NO_MASK: RuleParams(min_duration_s=2.0, grace_s=2.0),
    ViolationKind.NO_UNIFORM: RuleParams(min_duration_s=3.0, grace_s=2.0),
    ViolationKind.SMOKING: RuleParams(min_duration_s=1.0, grace_s=2.0),
    ViolationKind.PHONE: RuleParams(min_duration_s=2.0, grace_s=2.0),
    ViolationKind.RODENT: RuleParams(min_duration_s=0.5, grace_s=2.0),
    ViolationKind.COCKROACH: RuleParams(min_duration_s=0.5, grace_s=2.0),
    ViolationKind.OPEN_BIN: RuleParams(min_duration_s=5.0, grace_s=3.0),
    ViolationKind.STRANGER: RuleParams(min_duration_s=1.0, grace_s=2.0),
    ViolationKind.CAMERA_OFFLINE: RuleParams(min_duration_s=60.0, grace_s=0.0),
    ViolationKind.CAMERA_TAMPERED: RuleParams(min_duration_s=3.0, grace_s=2.0),
}


class Zone(BaseModel):
    """A polygon in normalized image coordinates (0..1). ``restricted`` zones raise ``stranger``;
    ``ignore_motion`` zones (a screen, a window) are masked out of the motion gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    polygon: list[tuple[float, float]] = Field(min_length=3)
    restricted: bool = False
    ignore_motion: bool = False

    @field_validator("polygon")
    @classmethod
    def _normalized(cls, pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for x, y in pts:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"zone point ({x}, {y}) is outside 0..1 (normalized coordinates)")
        return pts


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time = time(6, 0)
    end: time = time(20, 0)

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # overnight shift


class CameraRules(BaseModel):
    """What a camera watches for: zones, working hours and per-kind overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: list[Zone] = Field(default_factory=list)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    overrides: dict[ViolationKind, RuleParams] = Field(default_factory=dict)

    def params(self, kind: ViolationKind) -> RuleParams:
        return self.overrides.get(kind, DEFAULT_RULES[kind])

    def severity(self, kind: ViolationKind) -> Severity:
        return self.params(kind).severity or DEFAULT_SEVERITY[kind]
