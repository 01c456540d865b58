"""Fixtures for the API suite: every database test runs on SQLite AND on PostgreSQL.

``BK_TEST_DATABASES`` picks the backends (default ``sqlite,postgres``; CI has both);
``BK_TEST_DATABASE_URL`` is the PostgreSQL server (default the local ``test`` database). Each
pytest session gets its own PostgreSQL schema (dropped at the end), so parallel sessions and
other suites using the same database never see each other's rows. The schema is built by the
Alembic migrations, and every table is emptied before each test.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from api.audit import GENESIS_HASH
from api.db import make_engine, upgrade
from api.main import create_app
from api.models import Base
from api.settings import Settings
from tests.api.world import World, build_world

PG_URL = os.environ.get("BK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("BK_TEST_DATABASES", "sqlite,postgres").split(",") if b.strip()]


def _pg_admin_dsn() -> str:
    url = make_url(PG_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_test_settings(tmp: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp,
        database_url=database_url,
        media_root=tmp / "media",
        secret_key="test-secret-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        escalation_interval_s=0,
        sample_dir=tmp / "no-samples",
        alerts_dispatcher="off",  # the alert suite tests delivery; here it would only add teardown time
    )


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'api.db'}"
        return
    schema = f"bk_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_pg_admin_dsn(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {PG_URL} is not reachable ({exc}); start it, point BK_TEST_DATABASE_URL at one, "
            "or run with BK_TEST_DATABASES=sqlite"
        )
    yield str(make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}))
    with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def migrated_engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    settings = make_test_settings(tmp_path_factory.mktemp("migrate"), database_url)
    upgrade(settings)
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:  # DELETE, not TRUNCATE: on a few rows it is ~20x faster in PostgreSQL
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(
            text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :h)"), {"h": GENESIS_HASH}
        )


@pytest.fixture
def settings(migrated_engine: Engine, database_url: str, tmp_path: Path) -> Settings:
    empty_all_tables(migrated_engine)
    return make_test_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def live_url(app: FastAPI, world: World) -> Iterator[str]:
    """The same app (its lifespan already running under the world's client) behind uvicorn."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, log_level="info")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def world(client: TestClient, app: FastAPI) -> World:
    return build_world(client, app.state.services)
