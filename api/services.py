"""What a running app holds: built in ``lifespan`` from ``Settings``, reached via ``api.deps``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine, make_session_factory
from api.security import LoginThrottle, MediaLinks, PasswordService, TokenService
from api.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    passwords: PasswordService
    tokens: TokenService
    throttle: LoginThrottle
    media_links: MediaLinks

    @property
    def media_dir(self) -> Path:
        return self.settings.media_dir

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = make_engine(settings)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=make_session_factory(engine),
            passwords=PasswordService(settings),
            tokens=TokenService(settings),
            throttle=LoginThrottle(settings.login_max_failures, settings.login_window_s),
            media_links=MediaLinks(settings),
        )

    def close(self) -> None:
        self.engine.dispose()
