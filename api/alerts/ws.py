"""WebSocket channel: a hub that pushes alerts to connected users, each seeing only their sites.

The outbox is a log ordered by ``alert_id``, so the hub needs no delivery rows: ``OutboxTail``
follows the log and hands new alerts to ``WebSocketSink`` (the hub), and a client that
reconnects sends the last ``alert_id`` it saw and is replayed everything after it that it may
see. Subscribe-then-replay, dropping what the replay already sent, leaves no gap between the
two. A client too slow to keep up is disconnected (code 4008) and simply resumes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from api.alerts.outbox import AlertOutbox
from api.alerts.payload import Alert
from api.alerts.sinks import SendResult
from api.alerts.tiers import Cadence

log = logging.getLogger(__name__)
SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True, slots=True)
class AlertScope:
    """Which sites a user may see: everything (admin), a region subtree (regulator; ``region_path``
    is the region's ``/id/id/`` path) or one site (site staff). Same rule as the API's routes."""

    all_sites: bool = False
    region_path: str | None = None
    site_id: str | None = None

    def allows(self, alert: Alert) -> bool:
        if self.all_sites:
            return True
        if self.site_id is not None:
            return alert.site_id == self.site_id
        if self.region_path is not None:
            path = "/" + "".join(f"{p}/" for p in alert.region_path)
            return path.startswith(self.region_path)
        return False


@dataclass(eq=False)
class Subscriber:
    scope: AlertScope
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Alert | None] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))
    overflowed: bool = False

    def offer(self, alert: Alert) -> None:
        """Runs on the subscriber's loop. A full queue ends the connection; the client resumes."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(alert)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue = asyncio.Queue(maxsize=1)
            self.queue.put_nowait(None)


class AlertHub:
    """Connected WebSocket clients; ``publish`` may be called from any thread."""

    def __init__(self) -> None:
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()

    def subscribe(self, scope: AlertScope) -> Subscriber:
        sub = Subscriber(scope=scope, loop=asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def connections(self) -> int:
        return len(self._subs)

    def publish(self, alerts: Sequence[Alert]) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            mine = [a for a in alerts if sub.scope.allows(a)]
            if not mine:
                continue
            try:
                sub.loop.call_soon_threadsafe(_offer_all, sub, mine)
            except RuntimeError:  # loop closed: the connection is going away
                self.unsubscribe(sub)


def _offer_all(sub: Subscriber, alerts: list[Alert]) -> None:
    for alert in alerts:
        sub.offer(alert)


class WebSocketSink:
    """The hub as an ``AlertSink``: handing alerts to connected clients cannot fail."""

    name = "websocket"

    def __init__(self, hub: AlertHub):
        self.hub = hub

    def send(self, target: str, alerts: Sequence[Alert], cadence: Cadence) -> SendResult:
        self.hub.publish(alerts)
        return SendResult(len(alerts))

    def close(self) -> None:
        return None


def _scope_filter(scope: AlertScope) -> ColumnElement[bool] | None:
    if scope.all_sites:
        return None
    if scope.site_id is not None:
        return AlertOutbox.site_id == uuid.UUID(scope.site_id)
    if scope.region_path is not None:
        return AlertOutbox.region_path.startswith(scope.region_path, autoescape=True)
    return false()


def read_after(session: Session, after: int, limit: int, scope: AlertScope | None = None) -> list[Alert]:
    """Sequenced alerts with ``alert_id > after`` (in order), optionally only those ``scope`` sees."""
    stmt = select(AlertOutbox).where(AlertOutbox.seq > after).order_by(AlertOutbox.seq).limit(limit)
    cond = _scope_filter(scope) if scope is not None else None
    if cond is not None:
        stmt = stmt.where(cond)
    return [row.to_alert() for row in session.scalars(stmt)]


def last_alert_id(session: Session) -> int:
    return int(session.scalar(select(func.max(AlertOutbox.seq))) or 0)


class OutboxTail:
    """Follows the outbox log and feeds the WebSocket sink (a thread in the API process)."""

    def __init__(self, sessions: SessionFactory, sink: WebSocketSink, *, poll_interval_s: float = 0.25):
        self._sessions = sessions
        self._sink = sink
        self._poll_interval_s = poll_interval_s
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_seen: int | None = None  # read on the first poll: only alerts from then on
        self._failing = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alerts-ws-tail", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while self.poll_once() and not self._stop.is_set():
                    pass
                self._failing = False
            except Exception:  # the database may be restarting (or not migrated yet); keep following
                if not self._failing:
                    log.exception("alert tail: reading the outbox failed; retrying")
                self._failing = True
            self.wake.wait(self._poll_interval_s)
            self.wake.clear()

    def poll_once(self, limit: int = 1000) -> int:
        with self._sessions() as s:
            if self.last_seen is None:
                self.last_seen = last_alert_id(s)
                return 0
            alerts = read_after(s, self.last_seen, limit)
        if alerts:
            self._sink.send("hub", alerts, Cadence.IMMEDIATE)
            self.last_seen = alerts[-1].alert_id
        return len(alerts)

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
