"""Clips and snapshots: range requests for seeking, every clip request audited, no traversal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from api.models import EventMedia, User
from tests.api.world import World


def clip_views(world: World, event_id: str) -> list[dict[str, object]]:
    r = world.client.get(
        "/api/audit",
        params={"object_id": event_id, "action": "media.viewed.clip"},
        headers=world.headers("admin"),
    )
    return list(r.json()["data"])


def test_range_requests_and_audit(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    url = f"/api/events/{ev.id}/media/clip"
    full = world.client.get(url, headers=world.headers("staff_a"))
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.headers["accept-ranges"] == "bytes"
    assert full.content[4:8] == b"ftyp"
    part = world.client.get(url, headers={**world.headers("reg_x"), "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(full.content)}"
    assert part.content == full.content[100:200]
    tail = world.client.get(url, headers={**world.headers("reg_x"), "Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == full.content[-50:]
    bad = world.client.get(
        url, headers={**world.headers("reg_x"), "Range": f"bytes={len(full.content) + 10}-"}
    )
    assert bad.status_code == 416
    views = clip_views(world, ev.id)
    assert [v["actor"] for v in reversed(views)] == ["staff-a", "reg-x", "reg-x", "reg-x"]
    assert views[2]["details"]["range"] == "bytes=100-199"


def test_other_sites_and_public_get_nothing(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    url = f"/api/events/{ev.id}/media/snapshot"
    assert world.client.get(url).status_code == 401
    assert world.client.get(url, headers=world.headers("staff_b")).status_code == 404
    assert world.client.get(url, headers=world.headers("reg_y")).status_code == 404
    assert clip_views(world, ev.id) == []


@pytest.mark.parametrize(
    "suffix",
    [
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "clip/../../../../etc/passwd",
        "..\\..\\etc\\passwd",
        "%00clip",
    ],
)
def test_path_traversal_in_the_url_is_refused(world: World, tmp_path: Path, suffix: str) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    r = world.client.get(f"/api/events/{ev.id}/media/{suffix}", headers=world.headers("admin"))
    assert r.status_code in (404, 422)
    assert b"root:" not in r.content


@pytest.mark.parametrize("rel", ["../../../../../../etc/passwd", "/etc/passwd", "events/../../outside.mp4"])
def test_a_row_pointing_outside_the_media_root_is_refused(world: World, tmp_path: Path, rel: str) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    (world.services.media_dir.parent / "outside.mp4").write_bytes(b"secret")
    with world.services.session_factory() as s:
        s.execute(update(EventMedia).where(EventMedia.event_id == uuid.UUID(ev.id)).values(rel_path=rel))
        s.commit()
    r = world.client.get(f"/api/events/{ev.id}/media/clip", headers=world.headers("admin"))
    assert r.status_code == 404
    assert b"root:" not in r.content and b"secret" not in r.content


def test_event_detail_lists_media_with_hashes(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    body = world.client.get(f"/api/events/{ev.id}", headers=world.headers("reg_x")).json()
    kinds = {m["kind"]: m for m in body["media"]}
    assert set(kinds) == {"clip", "snapshot"}
    clip = world.client.get(kinds["clip"]["url"], headers=world.headers("reg_x"))
    import hashlib

    assert hashlib.sha256(clip.content).hexdigest() == kinds["clip"]["sha256"]
    assert clip.headers["etag"] == f'"{kinds["clip"]["sha256"]}"'


def link_for(world: World, event_id: str, kind: str = "clip", role: str = "reg_x") -> str:
    r = world.client.get(f"/api/events/{event_id}/media/{kind}/link", headers=world.headers(role))
    assert r.status_code == 200, r.text
    return str(r.json()["url"])


def test_signed_link_plays_without_a_header(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    url = link_for(world, ev.id)
    assert "access=" in url
    full = world.client.get(url)
    assert full.status_code == 200 and full.content[4:8] == b"ftyp"
    part = world.client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == full.content[:100]
    views = clip_views(world, ev.id)
    assert len(views) == 2 and {v["details"]["via"] for v in views} == {"link"}
    assert {v["actor"] for v in views} == {"reg-x"}


def test_signed_link_opens_only_its_file(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    other = world.ingest(world.cam_a, tmp_path)
    url = link_for(world, ev.id)
    token = url.split("access=")[1]
    assert world.client.get(url.replace("/clip?", "/snapshot?")).status_code == 401
    assert world.client.get(f"/api/events/{other.id}/media/clip?access={token}").status_code == 401
    assert world.client.get(url[:-3] + ("abc" if not url.endswith("abc") else "xyz")).status_code == 401
    assert world.client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    user = world.users["reg_x"]
    old, _ = world.services.media_links.issue(
        user, uuid.UUID(ev.id), "clip", now=datetime.now(UTC) - timedelta(hours=1)
    )
    assert world.client.get(f"/api/events/{ev.id}/media/clip?access={old}").status_code == 401


def test_signed_link_follows_the_users_scope(world: World, tmp_path: Path) -> None:
    ev = world.ingest(world.cam_a, tmp_path)
    url = link_for(world, ev.id)
    with world.services.session_factory() as s:
        s.get_one(User, world.users["reg_x"].id).region_id = world.regions["py"].id  # moved to region Y
        s.commit()
    assert world.client.get(url).status_code == 404
    assert (
        world.client.get(f"/api/events/{ev.id}/media/clip/link", headers=world.headers("staff_b")).status_code
        == 404
    )
