"""The whole loop through HTTP: ingest → confirm → order → staff submit with photo → accept.

Every step must be in the audit log, the chain must verify, and a tampered entry must be found.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from api import audit
from api.cli import app as cli
from api.settings import get_settings
from tests.api.world import World, make_jpeg

# The migration's trigger, put back after the tamper test dropped it (same database all session).
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries"
    " BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
)


def actions_for(world: World, object_id: str) -> list[str]:
    r = world.client.get("/api/audit", params={"object_id": object_id}, headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    return [e["action"] for e in reversed(r.json()["data"])]


def run_loop(world: World, tmp_path: Path) -> tuple[str, str]:
    ev = world.ingest(world.cam_a, tmp_path)
    reg, staff = world.headers("reg_x"), world.headers("staff_a")

    queue = world.client.get("/api/events", params={"status": "pending"}, headers=reg).json()
    assert [e["id"] for e in queue["data"]] == [ev.id]

    r = world.client.post(
        f"/api/events/{ev.id}/review", json={"decision": "confirm", "reason": "no hat 8 s"}, headers=reg
    )
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text

    r = world.client.post(
        f"/api/events/{ev.id}/rectifications", json={"instructions": "hats on"}, headers=reg
    )
    assert r.status_code == 201, r.text
    rect = r.json()
    assert rect["status"] == "ordered" and rect["responsible_region_id"] == str(world.site_a.region_id)

    r = world.client.post(
        f"/api/rectifications/{rect['id']}/submission",
        data={"reply_text": "all staff wear hats now"},
        files=[("photos", ("after.jpg", io.BytesIO(make_jpeg(size=(640, 480))), "image/jpeg"))],
        headers=staff,
    )
    assert r.status_code == 200, r.text
    submitted = r.json()
    assert submitted["status"] == "submitted" and len(submitted["photos"]) == 1

    photo = submitted["photos"][0]
    r = world.client.get(f"/api/rectifications/{rect['id']}/photos/{photo['id']}", headers=reg)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"

    r = world.client.post(
        f"/api/rectifications/{rect['id']}/review",
        json={"decision": "accept", "result": "checked on site"},
        headers=reg,
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    return ev.id, rect["id"]


def test_closed_loop_is_audited_and_chain_verifies(world: World, tmp_path: Path) -> None:
    event_id, rect_id = run_loop(world, tmp_path)
    assert actions_for(world, event_id) == [
        "event.ingested",
        "media.stored.clip",
        "media.stored.snapshot",
        "event.confirmed",
    ]
    assert actions_for(world, rect_id) == [
        "rectification.ordered",
        "rectification.submitted",
        "rectification.accepted",
    ]
    r = world.client.get("/api/audit/verify", headers=world.headers("admin"))
    assert r.json()["ok"] is True and r.json()["checked"] >= 7


def test_tampered_entry_is_detected(world: World, tmp_path: Path) -> None:
    event_id, _ = run_loop(world, tmp_path)
    engine = world.services.engine
    with engine.begin() as conn:
        seq = conn.execute(
            text("SELECT seq FROM audit_entries WHERE action = 'event.confirmed' AND object_id = :o"),
            {"o": event_id},
        ).scalar_one()
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # bypass the trigger
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(
            text("UPDATE audit_entries SET reason = 'dismissed, nothing seen' WHERE seq = :s"), {"s": seq}
        )
        if conn.dialect.name == "sqlite":
            conn.execute(text(SQLITE_TRIGGER))
    with world.services.session_factory() as s:
        report = audit.verify(s)
    assert not report.ok and report.first_bad_seq == seq
    body = world.client.get("/api/audit/verify", headers=world.headers("admin")).json()
    assert body == {
        "ok": False,
        "checked": seq - 1,
        "first_bad_seq": seq,
        "problem": "entry content does not match its hash",
    }


def test_audit_rows_refuse_updates(world: World, tmp_path: Path) -> None:
    run_loop(world, tmp_path)
    with pytest.raises(DBAPIError, match="append-only"), world.services.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET reason = 'x' WHERE seq = 1"))


def test_deleting_the_newest_entry_is_detected(world: World, tmp_path: Path) -> None:
    run_loop(world, tmp_path)
    with world.services.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = (SELECT max(seq) FROM audit_entries)"))
    with world.services.session_factory() as s:
        report = audit.verify(s)
    assert not report.ok and "head" in report.problem


def test_cli_audit_verify(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BK_DATABASE_URL", world.services.settings.sqlalchemy_url)
    get_settings.cache_clear()
    try:
        run_loop(world, tmp_path)
        ok = CliRunner().invoke(cli, ["audit", "verify"])
        assert ok.exit_code == 0 and "audit chain OK" in ok.output, ok.output
        with world.services.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
        bad = CliRunner().invoke(cli, ["audit", "verify"])
        assert bad.exit_code == 1 and "BROKEN at entry 2" in bad.output
    finally:
        get_settings.cache_clear()
