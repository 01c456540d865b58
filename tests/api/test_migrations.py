"""Alembic owns the schema: one head, upgrade from empty, downgrade to base, and the models match."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from api.db import alembic_config, downgrade, make_engine, upgrade
from api.models import Base
from api.settings import Settings
from tests.api.conftest import BACKENDS, PG_URL, make_test_settings


def test_single_head(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config(Settings(env="test", data_dir=tmp_path)))
    assert len(script.get_heads()) == 1


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield make_test_settings(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
        return
    schema = f"bk_mig_{uuid.uuid4().hex[:10]}"
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield make_test_settings(tmp_path, url.render_as_string(hide_password=False))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_upgrade_from_empty_matches_models_and_downgrades_to_base(empty_db: Settings) -> None:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(empty_db, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(empty_db)  # and back up again
        assert "events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
