"""Alembic environment: the URL comes from the config (set by ``api.db.alembic_config``)."""

from __future__ import annotations

from alembic import context

from api.db import make_engine
from api.models import Base
from api.settings import Settings

config = context.config
target_metadata = Base.metadata


def _settings() -> Settings:
    given = config.attributes.get("settings")
    if isinstance(given, Settings):
        return given
    url = config.get_main_option("sqlalchemy.url") or ""
    return Settings(database_url=url) if url else Settings()


def run_migrations_offline() -> None:
    context.configure(url=_settings().sqlalchemy_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
