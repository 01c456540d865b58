"""The review queue and lists: scoped per role, filtered, paged; other sites' ids answer 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.routes import events as events_routes
from tests.api.world import World
from vision.kinds import Severity, ViolationKind


def ids(world: World, role: str, path: str = "/api/events", **params: object) -> list[str]:
    r = world.client.get(path, params=params, headers=world.headers(role))
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["data"]]


def test_each_role_sees_its_scope(world: World, tmp_path: Path) -> None:
    a = world.ingest(world.cam_a, tmp_path, with_media=False).id
    b = world.ingest(world.cam_b, tmp_path, with_media=False).id
    assert sorted(ids(world, "admin")) == sorted([a, b])
    assert ids(world, "reg_x") == [a] and ids(world, "staff_a") == [a]
    assert ids(world, "reg_y") == [b] and ids(world, "staff_b") == [b]
    assert world.client.get(f"/api/events/{b}", headers=world.headers("reg_x")).status_code == 404
    assert world.client.get("/api/events").status_code == 401
    assert [
        s["name"] for s in world.client.get("/api/sites", headers=world.headers("reg_x")).json()["data"]
    ] == ["Canteen A"]
    regions = world.client.get("/api/regions", headers=world.headers("reg_x")).json()["data"]
    assert [r["name"] for r in regions] == ["District X", "Street X"]


def test_filters_and_paging(world: World, tmp_path: Path) -> None:
    made = [
        world.ingest(world.cam_a, tmp_path, kind=k, severity=s, with_media=False).id
        for k, s in [
            (ViolationKind.NO_HAT, Severity.ORANGE),
            (ViolationKind.SMOKING, Severity.RED),
            (ViolationKind.RODENT, Severity.RED),
            (ViolationKind.OPEN_BIN, Severity.YELLOW),
        ]
    ]
    assert sorted(ids(world, "reg_x", severity="red")) == sorted(made[1:3])
    assert ids(world, "reg_x", kind="open_bin") == [made[3]]
    r = world.client.post(
        f"/api/events/{made[0]}/review",
        json={"decision": "dismiss", "reason": "a hairnet"},
        headers=world.headers("reg_x"),
    )
    assert r.status_code == 200 and r.json()["review_reason"] == "a hairnet"
    assert made[0] not in ids(world, "reg_x", status="pending")
    assert ids(world, "reg_x", status="dismissed") == [made[0]]
    page1 = world.client.get("/api/events", params={"limit": 3}, headers=world.headers("reg_x")).json()
    page2 = world.client.get(
        "/api/events", params={"limit": 3, "offset": 3}, headers=world.headers("reg_x")
    ).json()
    assert page1["count"] == page2["count"] == 4
    assert len(page1["data"]) == 3 and len(page2["data"]) == 1
    assert {e["id"] for e in page1["data"] + page2["data"]} == set(made)
    naive = world.client.get(
        "/api/events", params={"since": "2026-01-01T00:00:00"}, headers=world.headers("reg_x")
    )
    assert naive.status_code == 422


def test_review_twice_conflicts(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path, with_media=False).id
    body = {"decision": "confirm", "reason": "seen"}
    assert (
        world.client.post(f"/api/events/{ev}/review", json=body, headers=world.headers("reg_x")).status_code
        == 200
    )
    again = world.client.post(
        f"/api/events/{ev}/review", json={**body, "decision": "dismiss"}, headers=world.headers("admin")
    )
    assert again.status_code == 409 and "already confirmed" in again.json()["detail"]


def test_order_needs_a_confirmed_event(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path, with_media=False).id
    r = world.client.post(
        f"/api/events/{ev}/rectifications", json={"instructions": "x"}, headers=world.headers("reg_x")
    )
    assert r.status_code == 409 and "confirmed" in r.json()["detail"]


def test_camera_rules_round_trip(world: World) -> None:
    rules = {
        "zones": [{"name": "storeroom", "polygon": [[0.6, 0.3], [1, 0.3], [1, 1]], "restricted": True}],
        "overrides": {"smoking": {"min_duration_s": 0.5, "severity": "red"}},
    }
    r = world.client.put(f"/api/cameras/{world.cam_a.id}/rules", json=rules, headers=world.headers("reg_x"))
    assert r.status_code == 200, r.text
    got = world.client.get(f"/api/cameras/{world.cam_a.id}", headers=world.headers("staff_a")).json()
    assert got["zones"][0]["name"] == "storeroom" and got["zones"][0]["restricted"] is True
    assert got["overrides"]["smoking"]["min_duration_s"] == 0.5
    outside = {"zones": [{"name": "z", "polygon": [[0, 0], [2, 0], [1, 1]]}]}
    bad = world.client.put(
        f"/api/cameras/{world.cam_a.id}/rules", json=outside, headers=world.headers("reg_x")
    )
    assert bad.status_code == 422 and "outside 0..1" in bad.text


def test_admin_builds_the_tree(world: World) -> None:
    h = world.headers("admin")
    prov = world.client.post("/api/regions", json={"name": "P2", "level": "province"}, headers=h).json()
    bad = world.client.post(
        "/api/regions", json={"name": "S", "level": "street", "parent_id": prov["id"]}, headers=h
    )
    assert bad.status_code == 400 and "cannot hold" in bad.json()["detail"]
    city = world.client.post(
        "/api/regions", json={"name": "C2", "level": "city", "parent_id": prov["id"]}, headers=h
    )
    assert city.status_code == 201
    user = {
        "username": "reg-c2",
        "password": "a long password",
        "role": "regulator",
        "region_id": city.json()["id"],
    }
    assert world.client.post("/api/users", json=user, headers=h).status_code == 201
    dup = world.client.post("/api/users", json=user, headers=h)
    assert dup.status_code == 409
    wrong = {**user, "username": "x-site", "role": "site_staff"}
    assert world.client.post("/api/users", json=wrong, headers=h).status_code == 400


def test_staff_set_their_consent_but_not_registration_data(world: World) -> None:
    url = f"/api/sites/{world.site_a.id}"
    r = world.client.patch(
        url, json={"public_display": False, "work_start": "07:30"}, headers=world.headers("staff_a")
    )
    assert r.status_code == 200 and r.json()["public_display"] is False and r.json()["work_start"] == "07:30"
    r = world.client.patch(url, json={"address": "elsewhere"}, headers=world.headers("staff_a"))
    assert r.status_code == 403 and "public_display" in r.json()["detail"]
    assert (
        world.client.patch(url, json={"address": "9 A road"}, headers=world.headers("reg_x")).status_code
        == 200
    )
    bad = world.client.patch(url, json={"work_end": "25:00"}, headers=world.headers("reg_x"))
    assert bad.status_code == 422 and "HH:MM" in bad.text


def test_count_is_capped(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_routes, "COUNT_CAP", 2)
    for _ in range(3):
        world.ingest(world.cam_a, tmp_path, with_media=False)
    body = world.client.get("/api/events", headers=world.headers("reg_x")).json()
    assert body["count"] == 2 and body["count_capped"] is True and len(body["data"]) == 3
    body = world.client.get("/api/events", params={"limit": 1}, headers=world.headers("reg_y")).json()
    assert body == {"data": [], "count": 0, "count_capped": False}
