"""The review loop as plain functions on a session: review → order → submit → re-check → escalate.

Routes call these and commit; the CLI and the periodic task call ``escalate_overdue``. Every
transition writes one audit entry in the same transaction, so a state change without its audit
entry (or the reverse) cannot be committed.

State machine of a rectification::

    ordered ──submit──▶ submitted ──accept──▶ accepted
       │                    └──────reject──▶ rejected   (the regulator may order again)
       └── overdue: responsible region moves one level up (escalation_level += 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.alerts.payload import Trigger
from api.alerts.triggers import alert_event, alert_rectification
from api.audit import Actor
from api.models import (
    OPEN_RECTIFICATION,
    Event,
    EventStatus,
    Rectification,
    RectificationPhoto,
    RectificationStatus,
    Region,
    Site,
    User,
)
from api.schemas.event import Decision, RecheckDecision
from vision.kinds import Severity

DEADLINE_BY_SEVERITY: dict[Severity, timedelta] = {
    Severity.RED: timedelta(days=1),
    Severity.ORANGE: timedelta(days=3),
    Severity.YELLOW: timedelta(days=7),
}


class Conflict(Exception):
    """The resource is not in a state that allows this transition (HTTP 409)."""


def lock(session: Session, row: Event | Rectification) -> None:
    """Re-read ``row`` under a row lock so two concurrent transitions cannot both pass the state
    check (PostgreSQL ``FOR UPDATE``; SQLite transactions are already serialized)."""
    session.refresh(row, with_for_update=True)


def review_event(
    session: Session, event: Event, user: User, decision: Decision, reason: str, now: datetime
) -> None:
    lock(session, event)
    if event.status is not EventStatus.PENDING:
        raise Conflict(f"event already {event.status.value}")
    event.status = EventStatus.CONFIRMED if decision is Decision.CONFIRM else EventStatus.DISMISSED
    event.review_reason, event.reviewed_by_id, event.reviewed_at = reason, user.id, now
    if event.status is EventStatus.CONFIRMED:
        alert_event(session, event, Trigger.EVENT_CONFIRMED, now)  # alert outbox, same transaction
    # The audit append comes last: it locks the chain's head until commit, so keep that short.
    audit.append(
        session,
        actor=Actor.of(user),
        action=f"event.{event.status.value}",
        object_type="event",
        object_id=str(event.id),
        site_id=event.site_id,
        reason=reason,
        at=now,
    )


def order_rectification(
    session: Session, event: Event, user: User, instructions: str, deadline_at: datetime | None, now: datetime
) -> Rectification:
    lock(session, event)  # one open order per event, also under concurrent requests
    if event.status is not EventStatus.CONFIRMED:
        raise Conflict("only a confirmed event can get a rectification order")
    open_one = session.scalar(
        select(Rectification.id).where(
            Rectification.event_id == event.id, Rectification.status.in_(OPEN_RECTIFICATION)
        )
    )
    if open_one is not None:
        raise Conflict(f"rectification {open_one} is still open for this event")
    if deadline_at is not None and deadline_at <= now:
        raise Conflict("deadline must be in the future")
    site = session.get_one(Site, event.site_id)
    rect = Rectification(
        event_id=event.id,
        site_id=event.site_id,
        instructions=instructions,
        ordered_by_id=user.id,
        ordered_at=now,
        deadline_at=deadline_at or now + DEADLINE_BY_SEVERITY[event.severity],
        responsible_region_id=site.region_id,
        status=RectificationStatus.ORDERED,
        escalation_level=0,
    )
    session.add(rect)
    session.flush()
    alert_rectification(session, rect, Trigger.RECTIFICATION_ORDERED, now)  # alert outbox, same transaction
    audit.append(  # last: it holds the chain's head lock until commit
        session,
        actor=Actor.of(user),
        action="rectification.ordered",
        object_type="rectification",
        object_id=str(rect.id),
        site_id=rect.site_id,
        reason=instructions,
        details={"event_id": str(event.id), "deadline_at": rect.deadline_at.isoformat()},
        at=now,
    )
    return rect


def submit_rectification(
    session: Session,
    rect: Rectification,
    user: User,
    reply: str,
    photos: list[RectificationPhoto],
    now: datetime,
) -> None:
    lock(session, rect)
    if rect.status is not RectificationStatus.ORDERED:
        raise Conflict(f"rectification is {rect.status.value}, not ordered")
    rect.status = RectificationStatus.SUBMITTED
    rect.reply_text, rect.submitted_by_id, rect.submitted_at = reply, user.id, now
    for photo in photos:
        rect.photos.append(photo)
    session.flush()
    details: dict[str, str | int | float | bool | None] = {"photos": len(photos)}
    details.update({f"photo_{i}_sha256": p.sha256 for i, p in enumerate(photos)})
    audit.append(
        session,
        actor=Actor.of(user),
        action="rectification.submitted",
        object_type="rectification",
        object_id=str(rect.id),
        site_id=rect.site_id,
        reason=reply,
        details=dict(details),
        at=now,
    )


def recheck_rectification(
    session: Session, rect: Rectification, user: User, decision: RecheckDecision, result: str, now: datetime
) -> None:
    lock(session, rect)
    if rect.status is not RectificationStatus.SUBMITTED:
        raise Conflict(f"rectification is {rect.status.value}, not submitted")
    accepted = decision is RecheckDecision.ACCEPT
    rect.status = RectificationStatus.ACCEPTED if accepted else RectificationStatus.REJECTED
    rect.review_result, rect.reviewed_by_id, rect.reviewed_at = result, user.id, now
    audit.append(
        session,
        actor=Actor.of(user),
        action=f"rectification.{rect.status.value}",
        object_type="rectification",
        object_id=str(rect.id),
        site_id=rect.site_id,
        reason=result,
        at=now,
    )


@dataclass(frozen=True, slots=True)
class Escalation:
    rectification_id: str
    level: int
    region: str


def escalate_overdue(session: Session, now: datetime) -> list[Escalation]:
    """Move every overdue ``ordered`` rectification one region level up.

    The n-th escalation happens once ``deadline + (n-1) × period`` has passed (period = the
    severity's deadline), so a forgotten order climbs one level per period until it reaches the
    top of the tree; the deadline the site was given never changes. The caller commits.
    """
    done: list[Escalation] = []
    rows = session.scalars(
        select(Rectification)
        .where(Rectification.status == RectificationStatus.ORDERED, Rectification.deadline_at < now)
        .order_by(Rectification.deadline_at)
        .with_for_update(skip_locked=True)  # replicas running this at once never escalate twice
    ).all()
    for rect in rows:
        period = DEADLINE_BY_SEVERITY[rect.event.severity]
        if now < rect.deadline_at + rect.escalation_level * period:
            continue
        region = session.get_one(Region, rect.responsible_region_id)
        if region.parent_id is None:
            continue  # already at the top of the tree
        rect.responsible_region_id = region.parent_id
        rect.escalation_level += 1
        rect.escalated_at = now
        parent = session.get_one(Region, region.parent_id)
        audit.append(
            session,
            actor=Actor.system("escalation"),
            action="rectification.escalated",
            object_type="rectification",
            object_id=str(rect.id),
            site_id=rect.site_id,
            reason=f"overdue since {rect.deadline_at.isoformat()}",
            details={"level": rect.escalation_level, "region_id": str(parent.id), "region": parent.name},
            at=now,
        )
        alert_rectification(session, rect, Trigger.RECTIFICATION_OVERDUE, now)  # outbox, same transaction
        done.append(Escalation(str(rect.id), rect.escalation_level, parent.name))
    session.flush()
    return done
