"""Overdue rectification orders climb the region tree, one level per missed period."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from api.main import create_app
from api.models import Event, Rectification, RectificationStatus
from api.review import escalate_overdue, order_rectification, review_event
from api.schemas.event import Decision
from api.settings import Settings, get_settings
from tests.api.world import World, build_world
from vision.kinds import Severity

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def order_at(world: World, tmp_path: Path, severity: Severity = Severity.RED) -> uuid.UUID:
    ev = world.ingest(world.cam_a, tmp_path, severity=severity, with_media=False)
    with world.services.session_factory() as s:
        admin = s.merge(world.users["admin"])
        event = s.get_one(Event, uuid.UUID(ev.id))
        review_event(s, event, admin, Decision.CONFIRM, "seen", T0)
        rect = order_rectification(s, event, admin, "fix", None, T0)
        s.commit()
        return rect.id


def escalate(world: World, now: datetime) -> list[str]:
    with world.services.session_factory() as s:
        done = [e.region for e in escalate_overdue(s, now)]
        s.commit()
        return done


def test_climbs_one_level_per_period_up_to_the_root(world: World, tmp_path: Path) -> None:
    rect_id = order_at(world, tmp_path, Severity.RED)  # red: 1 day
    assert escalate(world, T0 + timedelta(hours=23)) == []
    assert escalate(world, T0 + timedelta(days=1, minutes=1)) == ["District X"]
    assert escalate(world, T0 + timedelta(days=1, hours=2)) == []  # same period: once
    assert escalate(world, T0 + timedelta(days=2, minutes=1)) == ["City X"]
    assert escalate(world, T0 + timedelta(days=3, minutes=1)) == ["Province X"]
    assert escalate(world, T0 + timedelta(days=9)) == []  # the root has no parent
    with world.services.session_factory() as s:
        rect = s.get_one(Rectification, rect_id)
        assert rect.escalation_level == 3 and rect.responsible_region_id == world.regions["px"].id
        assert rect.deadline_at == T0 + timedelta(days=1)  # the site's deadline never moves
    r = world.client.get(
        "/api/audit", params={"action": "rectification.escalated"}, headers=world.headers("admin")
    )
    assert [e["actor"] for e in r.json()["data"]] == ["system:escalation"] * 3


def test_escalated_orders_reach_the_higher_regulators_queue(world: World, tmp_path: Path) -> None:
    rect_id = order_at(world, tmp_path, Severity.YELLOW)  # yellow: 7 days
    assert escalate(world, T0 + timedelta(days=6)) == []
    assert escalate(world, T0 + timedelta(days=7, seconds=1)) == ["District X"]
    mine = world.client.get(
        "/api/rectifications", params={"assigned_to_me": True}, headers=world.headers("reg_x")
    )
    assert [r["id"] for r in mine.json()["data"]] == [str(rect_id)]  # reg_x's region is District X


def test_submitted_orders_do_not_escalate(world: World, tmp_path: Path) -> None:
    rect_id = order_at(world, tmp_path)
    with world.services.session_factory() as s:
        s.get_one(Rectification, rect_id).status = RectificationStatus.SUBMITTED
        s.commit()
    assert escalate(world, T0 + timedelta(days=5)) == []


def test_cli_escalate_with_explicit_clock(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_at(world, tmp_path)
    monkeypatch.setenv("BK_DATABASE_URL", world.services.settings.sqlalchemy_url)
    get_settings.cache_clear()
    try:
        naive = CliRunner().invoke(cli, ["rectifications", "escalate", "--now", "2026-11-03T10:00:00"])
        assert naive.exit_code != 0 and "timezone" in naive.output
        out = CliRunner().invoke(cli, ["rectifications", "escalate", "--now", "2026-11-03T18:00:00+08:00"])
        assert out.exit_code == 0 and "1 escalated" in out.output and "District X" in out.output
    finally:
        get_settings.cache_clear()


def test_the_server_escalates_periodically(settings: Settings, tmp_path: Path) -> None:
    """With ``escalation_interval_s`` set, the running app escalates on its own (real clock)."""
    app = create_app(settings.model_copy(update={"escalation_interval_s": 1}))
    with TestClient(app) as client:
        world = build_world(client, app.state.services)
        rect_id = order_at(world, tmp_path)  # ordered at T0: long overdue by now
        deadline = time.monotonic() + 15
        level = 0
        while time.monotonic() < deadline and level == 0:
            time.sleep(0.2)
            with world.services.session_factory() as s:
                level = s.get_one(Rectification, rect_id).escalation_level
        assert level >= 1
