"""Login, tokens, throttling, and no secret in any log line."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from api.models import User
from api.security import LoginThrottle, redact
from tests.api.world import PASSWORD, World


def login(world: World, username: str, password: str) -> int:
    return world.client.post("/api/auth/token", data={"username": username, "password": password}).status_code


def test_login_and_me(world: World) -> None:
    r = world.client.post("/api/auth/token", data={"username": "reg-x", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    assert r.json()["expires_in"] == world.services.settings.access_token_ttl_s
    me = world.client.get("/api/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["username"] == "reg-x" and me.json()["role"] == "regulator"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode(
            {"sub": str(uuid.uuid4()), "role": "admin", "exp": 4102444800, "iat": 0, "typ": "access"},
            "wrong-secret-wrong-secret-wrong-secret-0",
            algorithm="HS256",
        ),
        jwt.encode({"sub": "x", "role": "admin", "exp": 4102444800, "iat": 0}, None, algorithm="none"),
    ],
)
def test_bad_tokens_are_401(world: World, token: str) -> None:
    r = world.client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_expired_token_and_disabled_user(world: World) -> None:
    tokens = world.services.tokens
    old = tokens.issue(world.users["admin"], now=datetime.now(UTC) - timedelta(hours=2))
    assert world.client.get("/api/users/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    fresh = world.headers("staff_a")
    with world.services.session_factory() as s:
        s.get_one(User, world.users["staff_a"].id).is_active = False
        s.commit()
    assert world.client.get("/api/users/me", headers=fresh).status_code == 401
    assert login(world, "staff-a", PASSWORD) == 401


def test_login_throttling(world: World) -> None:
    for _ in range(world.services.settings.login_max_failures):
        assert login(world, "reg-y", "wrong password") == 401
    r = world.client.post("/api/auth/token", data={"username": "reg-y", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert login(world, "reg-x", PASSWORD) == 200  # other users are not locked out
    assert login(world, "no-such-user", "whatever") == 401


def test_throttle_window_slides() -> None:
    now = [0.0]
    t = LoginThrottle(max_failures=2, window_s=60, clock=lambda: now[0])
    t.fail("user:a")
    t.fail("user:a")
    with pytest.raises(Exception, match="retry in 60 s"):
        t.check("user:a")
    now[0] = 61.0
    t.check("user:a")


def test_no_secret_or_token_in_logs(world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "hunter2-wrong-password"
    with caplog.at_level(logging.DEBUG):
        login(world, "reg-x", bad)
        token = world.token("reg_x")
        ev = world.ingest(world.cam_a, tmp_path)
        world.client.get(f"/api/events/{ev.id}/media/clip", headers=world.headers("reg_x"))
        world.client.get("/api/users/me", headers={"Authorization": "Bearer garbage.token.value"})
        logging.getLogger("api.test").warning("client sent Authorization: Bearer %s", token)
        time.sleep(0.05)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "login failed" in text  # the log did capture the auth flow
    for secret in (PASSWORD, bad, token, world.services.settings.secret_key.get_secret_value()):
        assert secret not in text
    assert "[redacted]" in text


def test_redact_patterns() -> None:
    assert redact("Authorization: Bearer abc.def.ghi") == "Authorization: Bearer [redacted]"
    assert redact("password=swordfish&x=1") == "password=[redacted]&x=1"
    assert "eyJ" not in redact("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_part")
    line = '127.0.0.1:5 - "GET /api/events/1/media/clip?access=abc.def.ghi HTTP/1.1" 206'
    assert redact(line) == '127.0.0.1:5 - "GET /api/events/1/media/clip?access=[redacted] HTTP/1.1" 206'


def test_access_log_of_a_real_server_has_no_secrets(
    world: World, live_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn's access log prints every URL: the signed media link must come out redacted."""
    ev = world.ingest(world.cam_a, tmp_path)
    with caplog.at_level(logging.INFO):
        with httpx.Client(base_url=live_url) as http:
            r = http.post("/api/auth/token", data={"username": "reg-x", "password": PASSWORD})
            token = r.json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            link = http.get(f"/api/events/{ev.id}/media/clip/link", headers=bearer).json()["url"]
            assert http.get(link, headers={"Range": "bytes=0-9"}).status_code == 206
            http.get(f"/api/users/me?access_token={token}")  # a client putting a token in a URL
        deadline = time.monotonic() + 10  # the server logs after it has answered: wait for the lines
        while time.monotonic() < deadline and sum(r.name == "uvicorn.access" for r in caplog.records) < 4:
            time.sleep(0.05)
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/media/clip?access=[redacted]" in line for line in access), access
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, token, link.split("access=")[1]):
        assert secret not in text


def test_admin_disables_and_resets_a_user(world: World) -> None:
    staff = world.headers("staff_a")
    url = f"/api/users/{world.users['staff_a'].id}"
    r = world.client.patch(url, json={"is_active": False}, headers=world.headers("admin"))
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert world.client.get("/api/users/me", headers=staff).status_code == 401
    r = world.client.patch(
        url, json={"is_active": True, "password": "a brand new password"}, headers=world.headers("admin")
    )
    assert r.status_code == 200
    assert login(world, "staff-a", PASSWORD) == 401 and login(world, "staff-a", "a brand new password") == 200
    me = f"/api/users/{world.users['admin'].id}"
    assert (
        world.client.patch(me, json={"is_active": False}, headers=world.headers("admin")).status_code == 400
    )
