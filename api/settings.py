"""One settings object for every process, read from the environment (prefix ``BK_``).

Embedded defaults run the whole demo with no server: SQLite and media on local disk under
``var/``. Secrets have a development default that is refused outside ``env=dev``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BK_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = REPO_ROOT / "var"
    database_url: str = ""  # empty: sqlite file under data_dir
    media_root: Path | None = None  # empty: data_dir / "media"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    access_token_ttl_s: int = Field(default=900, ge=60, le=86400)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The two-stage profile: the one-stage model plus its crop model on each person for cigarettes
    # and phones (more smokers and phone users found on the held-out and tuning sets, no false
    # alarm on the hard-negative clips; docs/evaluation.md).
    profile: Path = REPO_ROOT / "models" / "kitchen-yolo11n-2stage.yaml"
    sample_dir: Path = REPO_ROOT / "sample_videos"
    mqtt_url: str = ""  # e.g. mqtt://127.0.0.1:1883 ; empty: MQTT off
    webhooks_enabled: bool = False
    log_level: str = "INFO"
    # Review API (issue 7): password hashing cost, login throttling, uploads, escalation.
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65536, ge=1024, le=1048576)
    argon2_parallelism: int = Field(default=2, ge=1, le=16)
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_window_s: int = Field(default=300, ge=1, le=86400)
    upload_max_bytes: int = Field(default=5_000_000, ge=1024, le=100_000_000)
    upload_max_files: int = Field(default=5, ge=1, le=20)
    upload_max_pixels: int = Field(default=40_000_000, ge=10_000, le=200_000_000)
    escalation_interval_s: int = Field(default=300, ge=0, le=86400)  # 0: no periodic escalation
    media_link_ttl_s: int = Field(default=600, ge=10, le=86400)  # signed clip links for <video src>
    db_pool_size: int = Field(default=10, ge=1, le=200)  # per API process (PostgreSQL)
    db_max_overflow: int = Field(default=20, ge=0, le=200)
    # Alerts (issue 9, docs/alerts.md): the demo has WebSocket only; MQTT needs BK_MQTT_URL,
    # webhooks BK_WEBHOOKS_ENABLED=true. Private/loopback webhook targets need allow_networks.
    alerts_dispatcher: Literal["inprocess", "external", "off"] = "inprocess"
    alerts_poll_interval_s: float = Field(default=0.25, ge=0.01, le=60.0)
    alerts_tiers_file: Path | None = None  # YAML per-region tier overrides; empty: defaults
    mqtt_client_id: str = Field(default="brightkitchen-dispatcher", min_length=1, max_length=64)
    webhook_allow_hosts: list[str] = Field(default_factory=list)  # empty: any public host
    webhook_allow_networks: list[str] = Field(default_factory=list)  # CIDRs allowed although private
    webhook_allow_http: bool = False
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    webhook_retry_base_s: float = Field(default=5.0, gt=0, le=3600)
    webhook_retry_max_delay_s: float = Field(default=3600.0, gt=0, le=86400)
    webhook_give_up_after_s: float = Field(default=86400.0, gt=0, le=7 * 86400)
    # Live view (issue 8, docs/cameras.md): the API checks the viewer's rights, then forwards the
    # WHEP offer to the camera runtime. Empty URL: live view off (503). The token is the value of
    # the runtime's ``http.token_env`` variable; without one the runtime serves loopback callers only.
    live_url: str = Field(default="", max_length=2000)  # e.g. http://127.0.0.1:8090
    live_token: SecretStr | None = None
    live_timeout_s: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _refuse_dev_secret(self) -> Settings:
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("BK_SECRET_KEY must be set to a real secret when BK_ENV=prod")
        return self

    @model_validator(mode="after")
    def _check_live(self) -> Settings:
        if self.live_url and not self.live_url.startswith(("http://", "https://")):
            raise ValueError("BK_LIVE_URL must be an http:// or https:// URL of the camera runtime")
        token = self.live_token.get_secret_value() if self.live_token is not None else ""
        if not token:
            self.live_token = None  # an empty BK_LIVE_TOKEN means no token
        elif len(token) < 16:
            raise ValueError("BK_LIVE_TOKEN must be at least 16 characters (the runtime refuses shorter)")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'brightkitchen.db'}"

    @property
    def media_dir(self) -> Path:
        return self.media_root if self.media_root is not None else self.data_dir / "media"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
