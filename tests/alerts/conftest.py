"""Alert tests reuse the API suite's fixtures (SQLite and PostgreSQL, migrated by Alembic, the
small two-region world with real logins) and add real receivers: an HTTP webhook server, a
Mosquitto of our own and a persistent MQTT subscriber."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from api.alerts.dispatcher import Dispatcher
from api.alerts.outbox import AlertOutbox, enqueue_alert
from api.alerts.payload import Trigger
from api.alerts.service import build_dispatcher
from api.db import make_engine, make_session_factory
from api.main import create_app
from api.models import Site
from api.settings import Settings
from tests.alerts.receivers import Broker, WebhookReceiver
from tests.api.conftest import (  # noqa: F401  (fixtures shared with the API suite)
    backend,
    client,
    database_url,
    migrated_engine,
    settings,
    world,
)
from vision.kinds import Severity

SECRET = "whsec_test_" + "k" * 24


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alert_settings(**fields): override alert settings for one test")


@pytest.fixture
def alert_settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:  # noqa: F811
    """Test settings: webhooks on (loopback allowed, fast retries), dispatcher driven by the test.
    ``@pytest.mark.alert_settings(key=value)`` overrides fields."""
    marker = request.node.get_closest_marker("alert_settings")
    update: dict[str, Any] = {
        "alerts_dispatcher": "external",
        "alerts_poll_interval_s": 0.05,
        "webhooks_enabled": True,
        "webhook_allow_http": True,
        "webhook_allow_networks": ["127.0.0.0/8"],
        "webhook_retry_base_s": 0.2,
        "webhook_timeout_s": 5.0,
        "mqtt_client_id": f"bk-test-dispatcher-{uuid.uuid4().hex[:8]}",
        **(marker.kwargs if marker else {}),
    }
    return settings.model_copy(update=update)


@pytest.fixture
def app(alert_settings: Settings) -> FastAPI:
    return create_app(alert_settings)


@pytest.fixture
def sessions(alert_settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(alert_settings)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def start_dispatcher(alert_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Any]:
    """Start an in-test dispatcher (threads) from settings; stopped at teardown."""
    started: list[Dispatcher] = []

    def start(custom: Settings | None = None) -> Dispatcher:
        d = build_dispatcher(custom or alert_settings, sessions)
        d.start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


@pytest.fixture
def say(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print past pytest's capture: the fault tests' counts belong in every CI log."""

    def emit(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    return emit


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver([SECRET])
    yield r
    r.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "mosquitto")
    b.start()
    yield b
    b.stop()


def add_alerts(
    sessions: sessionmaker[Session],
    sites: list[Site],
    n: int,
    *,
    severity: Severity = Severity.RED,
    camera_key: str = "cam-a",
    per_txn: int = 100,
) -> list[uuid.UUID]:
    """Enqueue ``n`` alerts (round-robin over ``sites``), ``per_txn`` per transaction."""
    event_ids: list[uuid.UUID] = []
    for start in range(0, n, per_txn):
        with sessions() as s, s.begin():
            local = [s.merge(site) for site in sites]
            for i in range(start, min(n, start + per_txn)):
                ev = uuid.uuid4()
                enqueue_alert(
                    s,
                    trigger=Trigger.EVENT_OPENED,
                    event_id=ev,
                    kind="rodent",
                    severity=severity,
                    site=local[i % len(local)],
                    camera_key=camera_key,
                    occurred_at=datetime.now(UTC),
                    message=f"burst {i}",
                )
                event_ids.append(ev)
    return event_ids


def alert_ids(sessions: sessionmaker[Session]) -> set[int]:
    from sqlalchemy import select

    with sessions() as s:
        return {int(x) for x in s.scalars(select(AlertOutbox.seq).where(AlertOutbox.seq.is_not(None)))}
