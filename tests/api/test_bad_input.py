"""Input the database cannot store, or that breaks parsers, answers 4xx with a message, never 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.world import World, build_world


def test_nul_characters_are_refused_cleanly(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path, with_media=False).id
    r = world.client.post(
        f"/api/events/{ev}/review",
        json={"decision": "confirm", "reason": "a\x00b"},
        headers=world.headers("reg_x"),
    )
    assert r.status_code in (400, 422) and "detail" in r.json()
    after = world.client.get(f"/api/events/{ev}", headers=world.headers("reg_x")).json()
    assert after["status"] == "pending"  # nothing half-written
    q = world.client.get("/api/audit", params={"object_id": "x\x00y"}, headers=world.headers("admin"))
    assert q.status_code in (200, 400, 422)


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        (
            "POST",
            "/api/auth/token",
            {"content": b"\xff\xfe", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        ),
        ("POST", "/api/regions", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("POST", "/api/regions", {"json": {"name": "x" * 10_000, "level": "province"}}),
        ("GET", "/api/events", {"params": {"limit": "-1"}}),
        ("GET", "/api/events", {"params": {"status": "maybe"}}),
        ("GET", "/api/events/not-a-uuid", {}),
        ("PUT", "/api/cameras/00000000-0000-0000-0000-000000000000/rules", {"json": {"zones": "nope"}}),
    ],
)
def test_malformed_requests_are_4xx(world: World, method: str, path: str, kwargs: dict[str, object]) -> None:
    headers = {**world.headers("admin"), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    r = world.client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]


def test_oversized_bodies_are_refused_while_streaming(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"upload_max_bytes": 10_000, "upload_max_files": 1}))
    with TestClient(app) as client:
        world = build_world(client, app.state.services)
        big = b'{"name": "' + b"x" * 1_100_000 + b'", "level": "province"}'
        r = client.post(
            "/api/regions",
            content=big,
            headers={**world.headers("admin"), "content-type": "application/json"},
        )
        assert r.status_code == 413
