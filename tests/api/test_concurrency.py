"""Concurrent transitions: one wins, the others get a conflict; the audit chain stays whole."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from api import audit
from api.models import AuditEntry, Event, Rectification, User, utcnow
from api.review import Conflict, order_rectification, review_event
from api.schemas.event import Decision
from tests.api.world import World

THREADS = 6


def race(world: World, work: Callable[[int], None]) -> list[str]:
    """Run ``work(i)`` in THREADS threads released at once; return each one's outcome."""
    barrier = threading.Barrier(THREADS)
    outcomes = ["?"] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            outcomes[i] = "ok"
        except Conflict:
            outcomes[i] = "conflict"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def reviewer(world: World, i: int) -> uuid.UUID:
    return world.users["reg_x" if i % 2 else "admin"].id


def test_one_review_wins(world: World, tmp_path: Path) -> None:
    event_id = uuid.UUID(world.ingest(world.cam_a, tmp_path, with_media=False).id)

    def work(i: int) -> None:
        with world.services.session_factory() as s:
            decision = Decision.CONFIRM if i % 2 else Decision.DISMISS
            review_event(
                s,
                s.get_one(Event, event_id),
                s.get_one(User, reviewer(world, i)),
                decision,
                f"r{i}",
                utcnow(),
            )
            s.commit()

    outcomes = race(world, work)
    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["ok"]
    with world.services.session_factory() as s:
        reviews = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.object_id == str(event_id),
                AuditEntry.action.in_(["event.confirmed", "event.dismissed"]),
            )
        )
        assert reviews == 1 and audit.verify(s).ok


def test_one_order_per_event(world: World, tmp_path: Path) -> None:
    event_id = uuid.UUID(world.ingest(world.cam_a, tmp_path, with_media=False).id)
    with world.services.session_factory() as s:
        review_event(
            s,
            s.get_one(Event, event_id),
            s.get_one(User, world.users["admin"].id),
            Decision.CONFIRM,
            "seen",
            utcnow(),
        )
        s.commit()

    def work(i: int) -> None:
        with world.services.session_factory() as s:
            order_rectification(
                s, s.get_one(Event, event_id), s.get_one(User, reviewer(world, i)), f"fix {i}", None, utcnow()
            )
            s.commit()

    assert sorted(race(world, work)) == ["conflict"] * (THREADS - 1) + ["ok"]
    with world.services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Rectification)) == 1


def test_parallel_appends_keep_one_chain(world: World, tmp_path: Path) -> None:
    events = [uuid.UUID(world.ingest(world.cam_a, tmp_path, with_media=False).id) for _ in range(THREADS)]

    def work(i: int) -> None:
        with world.services.session_factory() as s:
            review_event(
                s,
                s.get_one(Event, events[i]),
                s.get_one(User, reviewer(world, i)),
                Decision.CONFIRM,
                "seen",
                utcnow(),
            )
            s.commit()

    assert race(world, work) == ["ok"] * THREADS
    with world.services.session_factory() as s:
        report = audit.verify(s)
        assert report.ok and report.checked == 2 * THREADS  # one ingested + one confirmed per event
