"""Authorization matrix generated from the app's route table (its OpenAPI paths).

Every route × every role (admin, regulator of region X, regulator of region Y, staff of site A,
staff of site B, anonymous public) gets an expected answer; the resource used always belongs to
site A in region X. A route added without a row fails ``test_every_route_has_a_row``.

Routes of other packages bring their rows in the same shape (path parameters from the
``Fixture``/``World``, request extras, expectation per role) and are merged below, e.g. the alert
routes from ``tests/alerts/authz_rows.py``. Path parameters and request extras are made per role
(a live-view session, say, is used up by the first allowed hang-up); the live-view rows run with a
real camera runtime behind the API (``tests/api/live_runtime.py``).
OK means the authorization passed: 2xx, or 409 when an earlier allowed role already changed the
state (e.g. the event was confirmed by the admin before the regulator tried).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api.live import LiveRoute
from api.main import create_app
from api.models import Event, Site
from api.review import order_rectification, review_event, submit_rectification
from api.routes.rectifications import store_photos
from api.schemas.event import Decision
from api.settings import Settings
from tests.alerts.authz_rows import ALERT_ROWS
from tests.api.live_runtime import live_runtime, offer_sdp, with_live
from tests.api.world import ROLES, World, make_jpeg

OK, UNAUTH, FORBIDDEN, NOT_FOUND = "ok", 401, 403, 404

PUBLIC = dict.fromkeys(ROLES, OK)
ANY_USER = {**dict.fromkeys(ROLES, OK), "public": UNAUTH}
REVIEWERS = {
    "admin": OK,
    "reg_x": OK,
    "reg_y": OK,
    "staff_a": FORBIDDEN,
    "staff_b": FORBIDDEN,
    "public": UNAUTH,
}
ADMIN_ONLY = {**dict.fromkeys(ROLES, FORBIDDEN), "admin": OK, "public": UNAUTH}
SCOPED_READ = {
    "admin": OK,
    "reg_x": OK,
    "reg_y": NOT_FOUND,
    "staff_a": OK,
    "staff_b": NOT_FOUND,
    "public": UNAUTH,
}
SCOPED_REVIEW = {
    "admin": OK,
    "reg_x": OK,
    "reg_y": NOT_FOUND,
    "staff_a": FORBIDDEN,
    "staff_b": FORBIDDEN,
    "public": UNAUTH,
}
SCOPED_STAFF = {
    "admin": FORBIDDEN,
    "reg_x": FORBIDDEN,
    "reg_y": FORBIDDEN,
    "staff_a": OK,
    "staff_b": NOT_FOUND,
    "public": UNAUTH,
}


@dataclass
class Fixture:
    """Resources of site A in every state a route needs."""

    pending_event: uuid.UUID
    confirmed_event: uuid.UUID
    ordered_rect: uuid.UUID
    submitted_rect: uuid.UUID
    photo: uuid.UUID


def prepare(world: World, tmp: Path) -> Fixture:
    pending = world.ingest(world.cam_a, tmp)
    confirmed = world.ingest(world.cam_a, tmp)
    third = world.ingest(world.cam_a, tmp)
    other = world.ingest(world.cam_a, tmp)
    now = datetime.now(UTC)
    with world.services.session_factory() as s:
        admin = s.merge(world.users["admin"])
        staff = s.merge(world.users["staff_a"])
        for ev_id in (confirmed.id, third.id):
            review_event(s, s.get_one(Event, uuid.UUID(ev_id)), admin, Decision.CONFIRM, "seen", now)
        ordered = order_rectification(s, s.get_one(Event, uuid.UUID(third.id)), admin, "fix it", None, now)
        review_event(s, s.get_one(Event, uuid.UUID(other.id)), admin, Decision.CONFIRM, "seen", now)
        submitted = order_rectification(s, s.get_one(Event, uuid.UUID(other.id)), admin, "fix", None, now)
        photos = store_photos(world.services, submitted, [make_jpeg()])
        submit_rectification(s, submitted, staff, "done", photos, now)
        s.commit()
        return Fixture(uuid.UUID(pending.id), uuid.UUID(confirmed.id), ordered.id, submitted.id, photos[0].id)


Request = Callable[[Fixture, World], dict[str, Any]]


def body(data: dict[str, Any]) -> Request:
    return lambda f, w: {"json": data}


def _new_site(f: Fixture, w: World) -> dict[str, Any]:
    return {
        "json": {
            "name": "n",
            "kind": "restaurant",
            "licence_no": uuid.uuid4().hex[:12],
            "address": "a",
            "region_id": str(w.regions["sx"].id),
        }
    }


def _new_camera(f: Fixture, w: World) -> dict[str, Any]:
    return {"json": {"site_id": str(w.site_a.id), "key": "k" + uuid.uuid4().hex[:8], "name": "n"}}


def _new_user(f: Fixture, w: World) -> dict[str, Any]:
    return {"json": {"username": "u" + uuid.uuid4().hex[:8], "password": "long enough pw", "role": "admin"}}


def _photo_upload(f: Fixture, w: World) -> dict[str, Any]:
    return {
        "data": {"reply_text": "cleaned"},
        "files": [("photos", ("p.jpg", io.BytesIO(make_jpeg()), "image/jpeg"))],
    }


def _login(f: Fixture, w: World) -> dict[str, Any]:
    return {"data": {"username": "admin", "password": "correct horse battery staple"}}


def _sdp_offer(f: Fixture, w: World) -> dict[str, Any]:
    return {"content": offer_sdp(), "headers": {"Content-Type": "application/sdp"}}


def _public_live_camera(f: Fixture, w: World) -> dict[str, str]:
    """Camera A, its site consenting to anonymous live view."""
    with w.services.session_factory() as s:
        s.get_one(Site, w.site_a.id).public_live = True
        s.commit()
    return {"camera_id": str(w.cam_a.id)}


def _live_session(route: LiveRoute) -> Callable[[Fixture, World], dict[str, str]]:
    """A fresh session of camera A, opened on the runtime through the app's own proxy."""

    def params(f: Fixture, w: World) -> dict[str, str]:
        ids = _public_live_camera(f, w) if route is LiveRoute.PUBLIC else {"camera_id": str(w.cam_a.id)}
        proxy = w.client.app.state.live  # type: ignore[attr-defined]
        return {**ids, "session": proxy.offer(route, w.cam_a.key, offer_sdp()).session}

    return params


# (method, path) → (path parameters from the fixture, request extras, expectation per role)
MATRIX: dict[tuple[str, str], tuple[Callable[[Fixture, World], dict[str, str]], Request, dict[str, Any]]] = {
    ("GET", "/api/health"): (lambda f, w: {}, body({}), PUBLIC),
    ("POST", "/api/auth/token"): (lambda f, w: {}, _login, PUBLIC),
    ("GET", "/api/users/me"): (lambda f, w: {}, body({}), ANY_USER),
    ("GET", "/api/users"): (lambda f, w: {}, body({}), ADMIN_ONLY),
    ("POST", "/api/users"): (lambda f, w: {}, _new_user, ADMIN_ONLY),
    ("PATCH", "/api/users/{user_id}"): (
        lambda f, w: {"user_id": str(w.users["staff_b"].id)},
        body({"is_active": True}),
        ADMIN_ONLY,
    ),
    ("GET", "/api/regions"): (lambda f, w: {}, body({}), REVIEWERS),
    ("POST", "/api/regions"): (lambda f, w: {}, body({"name": "P", "level": "province"}), ADMIN_ONLY),
    ("GET", "/api/sites"): (lambda f, w: {}, body({}), ANY_USER),
    ("POST", "/api/sites"): (lambda f, w: {}, _new_site, ADMIN_ONLY),
    ("GET", "/api/sites/{site_id}"): (lambda f, w: {"site_id": str(w.site_a.id)}, body({}), SCOPED_READ),
    ("PATCH", "/api/sites/{site_id}"): (
        lambda f, w: {"site_id": str(w.site_a.id)},
        body({"public_display": False}),
        SCOPED_READ,
    ),
    ("GET", "/api/cameras"): (lambda f, w: {}, body({}), ANY_USER),
    ("POST", "/api/cameras"): (lambda f, w: {}, _new_camera, ADMIN_ONLY),
    ("GET", "/api/cameras/{camera_id}"): (lambda f, w: {"camera_id": str(w.cam_a.id)}, body({}), SCOPED_READ),
    ("PUT", "/api/cameras/{camera_id}/rules"): (
        lambda f, w: {"camera_id": str(w.cam_a.id)},
        body({"zones": [], "overrides": {}}),
        SCOPED_REVIEW,
    ),
    ("GET", "/api/events"): (lambda f, w: {}, body({}), ANY_USER),
    ("GET", "/api/events/{event_id}"): (
        lambda f, w: {"event_id": str(f.pending_event)},
        body({}),
        SCOPED_READ,
    ),
    ("POST", "/api/events/{event_id}/review"): (
        lambda f, w: {"event_id": str(f.pending_event)},
        body({"decision": "confirm", "reason": "r"}),
        SCOPED_REVIEW,
    ),
    ("GET", "/api/events/{event_id}/media/{kind}"): (
        lambda f, w: {"event_id": str(f.pending_event), "kind": "clip"},
        body({}),
        SCOPED_READ,
    ),
    ("GET", "/api/events/{event_id}/media/{kind}/link"): (
        lambda f, w: {"event_id": str(f.pending_event), "kind": "clip"},
        body({}),
        SCOPED_READ,
    ),
    ("POST", "/api/events/{event_id}/rectifications"): (
        lambda f, w: {"event_id": str(f.confirmed_event)},
        body({"instructions": "wear hats"}),
        SCOPED_REVIEW,
    ),
    ("GET", "/api/rectifications"): (lambda f, w: {}, body({}), ANY_USER),
    ("GET", "/api/rectifications/{rectification_id}"): (
        lambda f, w: {"rectification_id": str(f.ordered_rect)},
        body({}),
        SCOPED_READ,
    ),
    ("POST", "/api/rectifications/{rectification_id}/submission"): (
        lambda f, w: {"rectification_id": str(f.ordered_rect)},
        _photo_upload,
        SCOPED_STAFF,
    ),
    ("POST", "/api/rectifications/{rectification_id}/review"): (
        lambda f, w: {"rectification_id": str(f.submitted_rect)},
        body({"decision": "accept", "result": "ok"}),
        SCOPED_REVIEW,
    ),
    ("GET", "/api/rectifications/{rectification_id}/photos/{photo_id}"): (
        lambda f, w: {"rectification_id": str(f.submitted_rect), "photo_id": str(f.photo)},
        body({}),
        SCOPED_READ,
    ),
    ("POST", "/api/cameras/{camera_id}/live/whep"): (
        lambda f, w: {"camera_id": str(w.cam_a.id)},
        _sdp_offer,
        SCOPED_READ,
    ),
    ("DELETE", "/api/cameras/{camera_id}/live/whep/{session}"): (
        _live_session(LiveRoute.PRIVATE),
        body({}),
        SCOPED_READ,
    ),
    ("POST", "/api/public/cameras/{camera_id}/live/whep"): (_public_live_camera, _sdp_offer, PUBLIC),
    ("DELETE", "/api/public/cameras/{camera_id}/live/whep/{session}"): (
        _live_session(LiveRoute.PUBLIC),
        body({}),
        PUBLIC,
    ),
    ("GET", "/api/audit"): (lambda f, w: {}, body({}), ADMIN_ONLY),
    ("GET", "/api/audit/verify"): (lambda f, w: {}, body({}), ADMIN_ONLY),
}
MATRIX.update(ALERT_ROWS)  # the alert routes (issue 9): tests/alerts/authz_rows.py
LIVE_ROUTES = {route for route in MATRIX if "/live/" in route[1]}


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Live-view rows get a real camera runtime behind the API; the other rows start none."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("route") in LIVE_ROUTES:
        return with_live(settings, request.getfixturevalue(live_runtime.__name__))
    return settings


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_every_route_has_a_row(tmp_path: Path) -> None:
    """Fails when a route is added (or removed) without updating the matrix."""
    app = create_app(Settings(env="test", data_dir=tmp_path))
    table = route_table(app)
    missing = sorted(table - MATRIX.keys())
    assert not missing, (
        f"routes without an authorization row (add a row to MATRIX or the package's rows): {missing}"
    )
    assert MATRIX.keys() - table == set(), "matrix rows for routes that no longer exist"


# Denied roles first, so a state change by an allowed role never hides a wrong answer.
ORDER = sorted(ROLES, key=lambda r: 0 if r == "public" else 1)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_role_as_expected(route: tuple[str, str], world: World, tmp_path: Path) -> None:
    fixture = prepare(world, tmp_path)
    params_of, request_of, expected = MATRIX[route]
    method, template = route
    roles = sorted(ROLES, key=lambda r: (expected[r] == OK, ROLES.index(r)))
    got: dict[str, int] = {}
    for role in roles:
        path = template.format(**params_of(fixture, world))
        extras = request_of(fixture, world)
        headers = {**world.headers(role), **extras.pop("headers", {})}
        r = world.client.request(method, path, headers=headers, **extras)
        got[role] = r.status_code
        want = expected[role]
        if want == OK:
            assert 200 <= r.status_code < 300 or r.status_code == 409, (
                f"{role}: {r.status_code} {r.text[:200]}"
            )
        else:
            assert r.status_code == want, f"{role}: expected {want}, got {r.status_code} {r.text[:200]}"
    assert set(got) == set(ROLES)
