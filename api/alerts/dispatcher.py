"""The dispatcher: sequences the outbox and delivers each pending delivery through its sink.

Threads: one sequencer (outbox → numbered alerts + delivery rows) and one loop per channel, so a
slow webhook receiver never holds back MQTT. Each loop reads pending, due deliveries in id order,
groups them (per target and site for webhooks, per target for MQTT, per target and cadence for
digests), sends each group whose first item is not waiting for a retry, and records the outcome:
the acknowledged prefix becomes ``delivered``; the first failure gets ``attempts + 1`` and a
``next_attempt_at`` from the channel's ``RetryPolicy`` and holds the rest of its group behind it
(per-site order). A webhook delivery still failing ``give_up_after_s`` after it became due goes
to the dead-letter list. It runs in the API process (lifespan) or alone (``brightkitchen dispatch``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from api.alerts.fanout import sequence_batch
from api.alerts.lease import DispatcherLease
from api.alerts.notify import NotifyListener
from api.alerts.outbox import AlertDelivery, AlertOutbox, Channel, DeliveryStatus
from api.alerts.payload import Alert
from api.alerts.sinks import AlertSink, RetryPolicy, SendResult
from api.alerts.tiers import Cadence, TierConfig
from api.models.base import utcnow

log = logging.getLogger(__name__)
# Deliveries per group and pass: the outcome is recorded after each pass, so this bounds how many
# alerts a crash can make one receiver get twice (webhooks go one POST at a time: keep it small).
GROUP_PASS_SIZE: dict[Channel, int] = {Channel.WEBHOOK: 50, Channel.MQTT: 200}
DEFAULT_RETRY: dict[Channel, RetryPolicy] = {
    Channel.WEBHOOK: RetryPolicy(),
    Channel.MQTT: RetryPolicy(base_s=1.0, factor=2.0, max_delay_s=10.0, give_up_after_s=None),
}


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    target: str
    site_id: str
    cadence: Cadence
    next_attempt_at: datetime | None
    attempts: int
    due_at: datetime


@dataclass
class Group:
    target: str
    cadence: Cadence
    items: list[Pending] = field(default_factory=list)


def group_key(p: Pending, per_site: bool) -> tuple[str, str]:
    if p.cadence is not Cadence.IMMEDIATE:
        return p.target, f"digest:{p.cadence.value}"
    return p.target, p.site_id if per_site else "*"


class Dispatcher:
    """Delivers the outbox. ``start()``/``stop()`` for the API; ``run(stop)`` for the CLI."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sinks: Mapping[Channel, AlertSink],
        tiers: TierConfig,
        *,
        retry: Mapping[Channel, RetryPolicy] | None = None,
        poll_interval_s: float = 0.25,
        batch_size: int = 500,
        webhook_workers: int = 4,
        on_sequenced: Callable[[], None] | None = None,
    ):
        self._sessions = sessions
        self.sinks = dict(sinks)
        self._tiers = tiers
        self._retry = {**DEFAULT_RETRY, **(retry or {})}
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._pool = ThreadPoolExecutor(max_workers=webhook_workers, thread_name_prefix="alerts-webhook")
        self._on_sequenced = on_sequenced
        self._stop = threading.Event()
        self._wake = {name: threading.Event() for name in ("sequence", *self.sinks)}
        self._threads: list[threading.Thread] = []
        engine = sessions.kw["bind"]
        self._lease = DispatcherLease(engine)
        self._listener = NotifyListener(engine, self.wake)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._threads = [threading.Thread(target=self._main, name="alerts-dispatcher", daemon=True)]
        self._threads[0].start()

    def _main(self) -> None:
        if not self._lease.acquire(self._stop):
            return
        log.info("dispatcher active: channels %s", ", ".join(c.value for c in self.sinks) or "none")
        self._listener.start()
        loops: list[tuple[str, Callable[[], int]]] = [("sequence", self.sequence_once)]
        loops += [(ch.value, functools.partial(self.deliver_once, ch)) for ch in self.sinks]
        workers = [
            threading.Thread(target=self._loop, args=(name, fn), name=f"alerts-{name}", daemon=True)
            for name, fn in loops
        ]
        for t in workers:
            t.start()
        self._threads.extend(workers)
        for t in workers:
            t.join()

    def run(self, stop: threading.Event) -> None:
        self.start()
        stop.wait()
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        for t in self._threads:
            t.join(timeout=15)
        self._listener.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._lease.release()
        for sink in self.sinks.values():
            sink.close()

    def wake(self) -> None:
        for ev in self._wake.values():
            ev.set()

    def _loop(self, name: str, step: Callable[[], int]) -> None:
        wake = self._wake[name]
        while not self._stop.is_set():
            try:
                busy = step() > 0
            except Exception:  # database or receiver trouble: log, wait, try again
                log.exception("alerts %s loop failed", name)
                busy = False
                self._stop.wait(1.0)
            if not busy:
                wake.wait(self._poll_interval_s)
                wake.clear()

    # --- sequencing ------------------------------------------------------------------------
    def sequence_once(self) -> int:
        with self._sessions() as s, s.begin():
            n = sequence_batch(s, list(self.sinks), self._tiers, utcnow(), self._batch_size)
        if n:
            for ch in self.sinks:
                self._wake[ch.value].set()
            if self._on_sequenced is not None:
                self._on_sequenced()
        return n

    # --- delivery --------------------------------------------------------------------------
    def deliver_once(self, channel: Channel) -> int:
        """One pass over ``channel``'s due deliveries; returns how many were attempted."""
        now = utcnow()
        groups = self._ready_groups(channel, now)
        if not groups:
            return 0
        alerts = self._load_alerts([p.id for g in groups for p in g.items])
        sink = self.sinks[channel]

        def send(g: Group) -> tuple[Group, SendResult]:
            return g, sink.send(g.target, [alerts[p.id] for p in g.items], g.cadence)

        if channel is Channel.WEBHOOK and len(groups) > 1:
            results = list(self._pool.map(send, groups))
        else:
            results = [send(g) for g in groups]
        self._record(channel, results)
        return sum(len(g.items) for g in groups)

    def _ready_groups(self, channel: Channel, now: datetime) -> list[Group]:
        """Due deliveries in id order, grouped; groups whose head waits for a retry are left out
        in SQL, so one receiver's backlog never hides the others' deliveries."""
        D = AlertDelivery
        per_site = channel is Channel.WEBHOOK
        limit = self._batch_size
        group_limit = GROUP_PASS_SIZE.get(channel, limit)
        due = (D.channel == channel, D.status == DeliveryStatus.PENDING, D.due_at <= now)
        with self._sessions() as s:
            waiting = s.execute(
                select(D.target, D.site_id, D.cadence).where(*due, D.next_attempt_at > now)
            ).all()
            stmt = select(
                D.id, D.target, D.site_id, D.cadence, D.next_attempt_at, D.attempts, D.due_at
            ).where(*due)
            held = _held_back(waiting, per_site)
            if held is not None:
                stmt = stmt.where(~held)
            rows = s.execute(stmt.order_by(D.id).limit(limit * 2)).all()
        groups: dict[tuple[str, str], Group] = {}
        blocked: set[tuple[str, str]] = set()
        taken = 0
        for r in rows:
            p = Pending(r.id, r.target, r.site_id.hex, r.cadence, r.next_attempt_at, r.attempts, r.due_at)
            key = group_key(p, per_site)
            if key in blocked:
                continue
            if key not in groups:
                if (p.next_attempt_at is not None and p.next_attempt_at > now) or taken >= limit:
                    blocked.add(key)
                    continue
                groups[key] = Group(p.target, p.cadence)
            groups[key].items.append(p)
            taken += 1
            if len(groups[key].items) >= group_limit:
                blocked.add(key)  # each group stays a contiguous prefix of its queue
            if taken >= limit:
                blocked.update(groups)
        return list(groups.values())

    def _load_alerts(self, delivery_ids: list[int]) -> dict[int, Alert]:
        out: dict[int, Alert] = {}
        with self._sessions() as s:
            for i in range(0, len(delivery_ids), 1000):
                chunk = delivery_ids[i : i + 1000]
                stmt = select(AlertDelivery.id, AlertOutbox).join(
                    AlertOutbox, AlertOutbox.id == AlertDelivery.alert_id
                )
                for did, row in s.execute(stmt.where(AlertDelivery.id.in_(chunk))):
                    out[did] = row.to_alert()
        return out

    def _record(self, channel: Channel, results: list[tuple[Group, SendResult]]) -> None:
        now = utcnow()
        policy = self._retry[channel]
        D = AlertDelivery
        with self._sessions() as s, s.begin():
            for group, result in results:
                done = [p.id for p in group.items[: result.delivered]]
                for i in range(0, len(done), 1000):
                    s.execute(
                        update(D)
                        .where(D.id.in_(done[i : i + 1000]))
                        .values(status=DeliveryStatus.DELIVERED, delivered_at=now, attempts=D.attempts + 1)
                    )
                if result.delivered < len(group.items):
                    self._record_failure(
                        s, channel, group, group.items[result.delivered], result, policy, now
                    )

    def _record_failure(
        self,
        s: Session,
        channel: Channel,
        group: Group,
        head: Pending,
        result: SendResult,
        policy: RetryPolicy,
        now: datetime,
    ) -> None:
        D = AlertDelivery
        attempts = head.attempts + 1
        error = (result.error or "not acknowledged")[:1000]
        give_up = policy.give_up_after_s
        if give_up is not None and now - head.due_at >= timedelta(seconds=give_up):
            expired = [p.id for p in group.items if now - p.due_at >= timedelta(seconds=give_up)]
            s.execute(
                update(D)
                .where(and_(D.id.in_(expired), D.status == DeliveryStatus.PENDING))
                .values(status=DeliveryStatus.DEAD, last_error=error, next_attempt_at=None)
            )
            s.execute(update(D).where(D.id == head.id).values(attempts=attempts))
            log.warning(
                "alerts %s delivery %d to %s dead after %d attempts: %s",
                channel,
                head.id,
                head.target,
                attempts,
                error,
            )
            return
        retry_at = now + timedelta(seconds=policy.delay_s(attempts))
        s.execute(
            update(D)
            .where(D.id == head.id)
            .values(attempts=attempts, next_attempt_at=retry_at, last_error=error)
        )
        s.execute(
            update(D).where(and_(D.id == head.id, D.first_attempt_at.is_(None))).values(first_attempt_at=now)
        )


def _held_back(waiting: Sequence[Any], per_site: bool) -> ColumnElement[bool] | None:
    """A condition matching every delivery queued behind a head that waits for its retry."""
    D = AlertDelivery
    conds: list[ColumnElement[bool]] = []
    immediate = {(r.target, r.site_id) for r in waiting if r.cadence is Cadence.IMMEDIATE}
    digests = {(r.target, r.cadence) for r in waiting if r.cadence is not Cadence.IMMEDIATE}
    if immediate and per_site:
        conds.append(and_(D.cadence == Cadence.IMMEDIATE, tuple_(D.target, D.site_id).in_(sorted(immediate))))
    elif immediate:
        conds.append(and_(D.cadence == Cadence.IMMEDIATE, D.target.in_(sorted({t for t, _ in immediate}))))
    if digests:
        conds.append(tuple_(D.target, D.cadence).in_(sorted(digests)))
    return or_(*conds) if conds else None
