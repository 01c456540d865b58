"""``/ws/alerts``: logged-in users only, each sees only their sites, and resume after reconnect."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from api.alerts.outbox import AlertOutbox
from api.alerts.payload import Alert
from api.alerts.routes import scope_of
from api.models import User
from api.scope import Principal, can_see_site
from api.settings import Settings
from tests.alerts.conftest import add_alerts
from tests.api.world import World

READY = "brightkitchen.ws-ready/1"


def no_push(alert_settings: Settings) -> Settings:
    """A dispatcher that only numbers alerts: the WebSocket needs nothing else."""
    return alert_settings.model_copy(update={"webhooks_enabled": False, "mqtt_url": ""})


def read_until_ready(ws: Any) -> tuple[list[dict[str, Any]], int]:
    alerts = []
    while True:
        msg = ws.receive_json()
        if msg.get("schema") == READY:
            return alerts, int(msg["last_alert_id"])
        alerts.append(msg)


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ({"token": "not-a-jwt"}, 4401),
        ({}, 4401),
        ({"after": -1}, 4400),
        ([1, 2], 4400),
        ({"after": "x"}, 4400),
    ],
)
def test_bad_hello_is_refused(world: World, hello: Any, code: int) -> None:
    with world.client.websocket_connect("/ws/alerts") as ws:
        ws.send_json(hello)
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == code


def test_each_user_sees_only_their_sites_live(
    world: World, alert_settings: Settings, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    start_dispatcher(no_push(alert_settings))
    add_alerts(sessions, [world.site_a], 3)
    with (
        world.client.websocket_connect("/ws/alerts") as staff_b,
        world.client.websocket_connect("/ws/alerts") as reg_x,
    ):
        staff_b.send_json({"token": world.token("staff_b"), "after": 0})
        reg_x.send_json({"token": world.token("reg_x"), "after": 0})
        assert read_until_ready(staff_b)[0] == []  # site A's alerts are not theirs
        replayed, last = read_until_ready(reg_x)
        assert [a["site_id"] for a in replayed] == [str(world.site_a.id)] * 3
        add_alerts(sessions, [world.site_a], 1)
        add_alerts(sessions, [world.site_b], 1)
        live_b = staff_b.receive_json()
        live_x = reg_x.receive_json()
    assert live_b["site_id"] == str(world.site_b.id) and live_b["alert_id"] == last + 2
    assert live_x["site_id"] == str(world.site_a.id) and live_x["alert_id"] == last + 1


def test_reconnect_resumes_after_the_last_seen_alert(
    world: World, alert_settings: Settings, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    start_dispatcher(no_push(alert_settings))
    add_alerts(sessions, [world.site_a, world.site_b], 6)
    token = world.token("admin")
    with world.client.websocket_connect("/ws/alerts", headers={"Authorization": f"Bearer {token}"}) as ws:
        ws.send_json({"after": 0})
        first, last = read_until_ready(ws)
    assert [a["alert_id"] for a in first] == list(range(1, 7)) and last == 6
    add_alerts(sessions, [world.site_a, world.site_b], 5)  # while disconnected
    with world.client.websocket_connect("/ws/alerts") as ws:
        ws.send_json({"token": token, "after": 4})  # the client had only processed up to 4
        got, _ = read_until_ready(ws)  # replayed: what was numbered when it connected
        while not got or got[-1]["alert_id"] < 11:  # the rest arrive live, seamlessly
            got.append(ws.receive_json())
        add_alerts(sessions, [world.site_b], 1)
        live = ws.receive_json()
    assert [a["alert_id"] for a in got] == list(range(5, 12))  # no gap, no repeat
    assert live["alert_id"] == 12


def test_without_a_resume_point_only_new_alerts_arrive(
    world: World, alert_settings: Settings, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    start_dispatcher(no_push(alert_settings))
    add_alerts(sessions, [world.site_a], 2)
    with world.client.websocket_connect("/ws/alerts") as ws:
        ws.send_json({"token": world.token("staff_a")})
        msg = ws.receive_json()
        add_alerts(sessions, [world.site_a], 1)
        live = ws.receive_json()
    assert msg["schema"] == READY and live["alert_id"] == msg["last_alert_id"] + 1


@pytest.mark.alert_settings(alerts_dispatcher="inprocess", webhooks_enabled=False, mqtt_url="")
def test_demo_mode_the_api_process_alone_delivers_to_websockets(
    world: World, sessions: sessionmaker[Session], tmp_path: Any
) -> None:
    """The demo: no broker, no receiver, no separate dispatcher; an ingested event reaches the
    dashboard of the site's staff through the API process's own dispatcher."""
    with world.client.websocket_connect("/ws/alerts") as ws:
        ws.send_json({"token": world.token("staff_a")})
        assert ws.receive_json()["schema"] == READY
        ev = world.ingest(world.cam_a, tmp_path, with_media=False)
        live = ws.receive_json()
    assert (live["event_id"], live["trigger"], live["site_id"]) == (
        ev.id,
        "event_opened",
        str(world.site_a.id),
    )


def test_alert_scope_is_the_api_scope(world: World, sessions: sessionmaker[Session]) -> None:
    """For every user of the world and every site, the WebSocket filter answers exactly what the
    API's ``can_see_site`` answers (so a dashboard never shows a site its API would hide)."""
    add_alerts(sessions, [world.site_a, world.site_b], 2)
    with sessions() as s:
        alerts = {row.site_id: row for row in s.scalars(select(AlertOutbox))}
        for name, user in world.users.items():
            p = Principal.of(s.get_one(User, user.id))
            for site_id, row in alerts.items():
                payload = Alert.model_validate({**row.payload, "alert_id": 1})
                assert scope_of(p).allows(payload) is can_see_site(s, p, site_id), (name, site_id)
    assert scope_of(Principal.public()).allows(payload) is False
