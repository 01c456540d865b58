"""``sites.yaml``: the sites and cameras a runtime process watches (read-only at run time).

Every model forbids unknown keys, so a typo (``ofline_after_s``) is an error with its path
instead of a silently ignored setting. ``load_config`` turns pydantic's errors into one message
that names the file and each bad field. See ``docs/sites.example.yaml`` and ``docs/cameras.md``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vision.kinds import Severity, ViolationKind
from vision.rule_config import CameraRules

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ConfigError(ValueError):
    """``sites.yaml`` is missing, not YAML, or does not match the schema."""


class HealthConfig(BaseModel):
    """When a camera counts as stalled, offline, tampered; how fast it reconnects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offline_after_s: float = Field(default=60.0, gt=0, le=86400)
    stall_timeout_s: float = Field(
        default=5.0, gt=0, le=10, description="read timeout: a stall is noticed by then"
    )
    open_timeout_s: float = Field(default=5.0, gt=0, le=60)
    backoff_base_s: float = Field(default=1.0, gt=0, le=60)
    backoff_max_s: float = Field(default=30.0, gt=0, le=600)
    min_fps_ratio: float = Field(default=0.8, gt=0, le=1)
    tamper: bool = True

    @model_validator(mode="after")
    def _order(self) -> HealthConfig:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff_max_s must be >= backoff_base_s")
        return self


class CameraConfig(BaseModel):
    """One camera: the stream used for detection, an optional full-quality stream for clips."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    name: str = ""
    url: str = Field(min_length=1, description="detect stream: rtsp://..., a file path, /dev/videoN")
    record_url: str | None = Field(default=None, description="main stream for clips (optional)")
    kind: Literal["rtsp", "file", "webcam"] | None = None  # None: from the URL
    loop: bool = False  # files: play again from the start at the end
    realtime: bool = True  # files: pace at the file's frame rate, like a camera
    detect_fps: float = Field(default=5.0, gt=0, le=60, description="frames per second sent to the pipeline")
    calm_detect_fps: float | None = Field(
        default=2.5,
        gt=0,
        le=60,
        description="most detections per second while nothing is suspected (null: always the full rate)",
    )
    calm_when_reported: bool = Field(
        default=False,
        description="an event already open on a person does not keep the full rate (it is reported); "
        "a new suspicion or a pest still does: fewer detections, pests seen up to one calm interval later",
    )
    copy_clips: bool = Field(
        default=True,
        description="cut clips from the camera's own H.264 packets at its full frame rate, no encoder "
        "(false, or a stream browsers cannot play: re-encode the analysed frames at detect_fps)",
    )
    expected_fps: float | None = Field(default=None, gt=0, le=120)
    live: bool = True
    health: HealthConfig | None = None  # None: the runtime's defaults
    rules: CameraRules = Field(default_factory=CameraRules)

    @field_validator("url", "record_url")
    @classmethod
    def _known_scheme(cls, url: str | None) -> str | None:
        if url is None:
            return url
        from streams.sources import infer_kind

        infer_kind(url)  # raises ValueError with the reason
        return url


class SiteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    name: str = ""
    timezone: str = "Asia/Shanghai"
    public_live: bool = False  # opt-in: anonymous live view, every face blurred
    cameras: list[CameraConfig] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        return tz

    def severity_at(self, camera: CameraConfig, kind: ViolationKind, unix_s: float) -> Severity:
        """``camera_offline`` is red inside working hours, its configured colour outside them."""
        base = camera.rules.severity(kind)
        if kind is ViolationKind.CAMERA_OFFLINE and camera.rules.params(kind).severity is None:
            local = datetime.fromtimestamp(unix_s, ZoneInfo(self.timezone)).time()
            if camera.rules.working_hours.contains(local):
                return Severity.RED
        return base


class DetectorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: Path | None = None  # model profile yaml; None: health and live view only
    backend: Literal["pytorch", "onnx", "openvino"] | None = None  # None: the profile's own
    threads: int | None = Field(default=None, ge=1, le=256)  # inference threads (None: runtime default)
    max_batch: int = Field(default=16, ge=1, le=256)
    max_wait_ms: float = Field(default=5.0, ge=0, le=1000)


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)  # 0: pick a free port
    token_env: str | None = None  # env var holding a bearer token for private views (else loopback only)


class RuntimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sites: list[SiteConfig] = Field(min_length=1)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    status_file: Path | None = None  # JSON written every second
    events_file: Path | None = None  # JSON lines of every event phase (when no other sink is given)
    media_dir: Path = Path("var/media")  # clips and snapshots: media_dir/site/camera/

    @model_validator(mode="after")
    def _unique_ids(self) -> RuntimeConfig:
        for what, ids in (
            ("site", [s.id for s in self.sites]),
            ("camera", [c.id for s in self.sites for c in s.cameras]),
        ):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ValueError(f"duplicate {what} id(s): {', '.join(dup)}")
        return self

    def cameras(self) -> list[tuple[SiteConfig, CameraConfig]]:
        return [(s, c) for s in self.sites for c in s.cameras]

    def camera_health(self, camera: CameraConfig) -> HealthConfig:
        return camera.health or self.health


def load_config(path: str | Path) -> RuntimeConfig:
    """Read and validate ``sites.yaml`` (relative file paths are taken from the working directory)."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{p}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    return parse_config(raw, source=str(p))


def parse_config(raw: object, *, source: str = "<config>") -> RuntimeConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with a 'sites' list at the top")
    try:
        return RuntimeConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{source}: {exc.error_count()} problem(s)"]
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "(top)"
            lines.append(f"  {loc}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
