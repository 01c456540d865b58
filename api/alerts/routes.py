"""Alert routes: the ``/ws/alerts`` WebSocket, webhook subscriptions and the dead-letter list.

WebSocket protocol: connect, then send one JSON message ``{"token": "<access token>",
"after": <last alert_id seen, optional>}`` within 10 s (the token may instead come in an
``Authorization: Bearer`` header; it never goes in the URL, where logs would keep it). The server
replays every alert after ``after`` that the user may see, sends ``{"schema":
"brightkitchen.ws-ready/1", "last_alert_id": N}``, then pushes alerts live. Close codes: 4401 bad
or expired token, 4400 bad first message, 4008 too slow (reconnect and resume).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api.alerts.payload import Alert
from api.alerts.ws import AlertScope, Subscriber, last_alert_id, read_after
from api.models import Role, User
from api.scope import Principal
from api.security import InvalidToken
from api.services import Services

router = APIRouter(tags=["alerts"])
AUTH_TIMEOUT_S = 10.0
REPLAY_PAGE = 500


def scope_of(p: Principal) -> AlertScope:
    """The API's scope rule (``api.scope``) as a filter on alerts."""
    if p.role is Role.ADMIN:
        return AlertScope(all_sites=True)
    if p.role is Role.REGULATOR and p.region_path:
        return AlertScope(region_path=p.region_path)
    if p.role is Role.SITE_STAFF and p.site_id:
        return AlertScope(site_id=str(p.site_id))
    return AlertScope()


def _authenticate(services: Services, token: str) -> tuple[Principal, datetime] | None:
    try:
        claims = services.tokens.decode(token)
    except InvalidToken:
        return None
    with services.session_factory() as s:
        user = s.scalar(select(User).options(joinedload(User.region)).where(User.id == claims.user_id))
        if user is None or not user.is_active:
            return None
        return Principal.of(user), claims.expires_at


async def _hello(ws: WebSocket) -> tuple[str, int | None] | None:
    """Token and resume point from the header and the first message; None if malformed."""
    header = ws.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    try:
        first = json.loads(await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S))
    except (TimeoutError, json.JSONDecodeError, KeyError):
        return None
    if not isinstance(first, dict):
        return None
    token = str(first.get("token") or token)
    after = first.get("after")
    if after is not None and (not isinstance(after, int) or isinstance(after, bool) or after < 0):
        return None
    return token, after


@router.websocket("/ws/alerts")
async def alerts_socket(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    hub = ws.app.state.alerts.hub
    await ws.accept()
    hello = await _hello(ws)
    if hello is None:
        await ws.close(code=4400, reason='first message must be {"token": ..., "after": <int>}')
        return
    auth = await asyncio.to_thread(_authenticate, services, hello[0]) if hello[0] else None
    if auth is None:
        await ws.close(code=4401, reason="invalid or expired token")
        return
    principal, expires_at = auth
    scope = scope_of(principal)
    sub = hub.subscribe(scope)  # live alerts queue up while the replay runs: no gap
    try:
        last = await _replay(services, ws, scope, hello[1])
        await ws.send_json({"schema": "brightkitchen.ws-ready/1", "last_alert_id": last})
        await _live(ws, sub, last, expires_at)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(sub)


async def _replay(services: Services, ws: WebSocket, scope: AlertScope, after: int | None) -> int:
    def page(last: int) -> list[Alert]:
        with services.session_factory() as s:
            return read_after(s, last, REPLAY_PAGE, scope)

    if after is None:  # no resume point: live alerts only
        with services.session_factory() as s:
            return await asyncio.to_thread(last_alert_id, s)
    last = after
    while True:
        batch = await asyncio.to_thread(page, last)
        for alert in batch:
            await ws.send_text(alert.to_json().decode("utf-8"))
            last = alert.alert_id
        if len(batch) < REPLAY_PAGE:
            return last


async def _live(ws: WebSocket, sub: Subscriber, last: int, expires_at: datetime) -> None:
    receiver = asyncio.create_task(_drain_client(ws))
    try:
        while True:
            left = (expires_at - datetime.now(UTC)).total_seconds()
            if left <= 0:
                await ws.close(code=4401, reason="token expired; reconnect with a new token and resume")
                return
            getter = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait(
                {getter, receiver}, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            if receiver in done:
                getter.cancel()
                return
            if getter not in done:
                getter.cancel()
                continue
            alert = getter.result()
            if alert is None:
                await ws.close(code=4008, reason="too slow: reconnect and resume")
                return
            if alert.alert_id > last:
                await ws.send_text(alert.to_json().decode("utf-8"))
                last = alert.alert_id
    finally:
        receiver.cancel()
        with contextlib.suppress(BaseException):
            await receiver


async def _drain_client(ws: WebSocket) -> None:
    """Returns when the client goes away (clients send nothing after the first message)."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)
