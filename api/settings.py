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
    profile: Path = REPO_ROOT / "models" / "kitchen-yolo11n.yaml"
    sample_dir: Path = REPO_ROOT / "sample_videos"
    mqtt_url: str = ""  # e.g. mqtt://127.0.0.1:1883 ; empty: MQTT off
    webhooks_enabled: bool = False
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_dev_secret(self) -> Settings:
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("BK_SECRET_KEY must be set to a real secret when BK_ENV=prod")
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
