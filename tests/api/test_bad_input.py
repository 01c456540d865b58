"""Input the database cannot store, or that breaks parsers, answers 4xx with a message, never 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.world import World


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
