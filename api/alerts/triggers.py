"""One call per alert-causing change, for the code that makes the change.

Each adds an outbox row to the caller's session, so the alert commits with the change::

    review_event(session, event, user, decision, reason, now)
    if event.status is EventStatus.CONFIRMED:
        alert_event(session, event, Trigger.EVENT_CONFIRMED, now)
    session.commit()
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.alerts.outbox import AlertOutbox, enqueue_alert
from api.alerts.payload import Trigger
from api.models import Camera, Event, Rectification
from vision.kinds import Severity, ViolationKind

SITE_TIMEZONE = ZoneInfo("Asia/Shanghai")


def alert_event(session: Session, event: Event, trigger: Trigger, at: datetime) -> AlertOutbox:
    """An event was opened or confirmed."""
    return enqueue_alert(
        session,
        trigger=trigger,
        event_id=event.id,
        kind=event.kind.value,
        severity=event.severity,
        site=event.site,
        camera_key=event.camera.key,
        occurred_at=at,
        detail={"confidence": round(event.confidence, 3), "status": event.status.value},
    )


def on_event_ingested(session: Session, event: Event, at: datetime) -> AlertOutbox:
    """A new event row: ``event_opened``, or ``camera_offline`` for a camera-health event."""
    if event.kind is ViolationKind.CAMERA_OFFLINE:
        return alert_camera_health(session, event.camera, online=False, at=at, health_event_id=event.id)
    return alert_event(session, event, Trigger.EVENT_OPENED, at)


def on_event_ended(session: Session, event: Event, at: datetime) -> AlertOutbox | None:
    """An event closed: only a camera-offline event announces it (the camera is back)."""
    if event.kind is not ViolationKind.CAMERA_OFFLINE:
        return None
    return alert_camera_health(session, event.camera, online=True, at=at, health_event_id=event.id)


def alert_rectification(session: Session, rect: Rectification, trigger: Trigger, at: datetime) -> AlertOutbox:
    """A rectification was ordered, or is overdue (escalated one level up)."""
    event = rect.event
    return enqueue_alert(
        session,
        trigger=trigger,
        event_id=event.id,
        kind=event.kind.value,
        severity=event.severity,
        site=event.site,
        camera_key=event.camera.key,
        occurred_at=at,
        detail={
            "rectification_id": str(rect.id),
            "deadline_at": rect.deadline_at.isoformat(),
            "escalation_level": rect.escalation_level,
        },
    )


def camera_offline_severity(camera: Camera, at: datetime) -> Severity:
    """Red inside the site's working hours (a kitchen at work unwatched), orange outside."""
    site = camera.site
    t = at.astimezone(SITE_TIMEZONE).time()
    start, end = site.work_start, site.work_end
    inside = start <= t < end if start <= end else (t >= start or t < end)
    return Severity.RED if inside else Severity.ORANGE


def alert_camera_health(
    session: Session, camera: Camera, *, online: bool, at: datetime, health_event_id: uuid.UUID
) -> AlertOutbox:
    """A camera went offline or came back; MQTT also updates its retained ``status`` topic.
    ``health_event_id`` names the outage, so its offline and online alerts share an id."""
    return enqueue_alert(
        session,
        trigger=Trigger.CAMERA_ONLINE if online else Trigger.CAMERA_OFFLINE,
        event_id=health_event_id,
        kind=ViolationKind.CAMERA_OFFLINE.value,
        severity=Severity.YELLOW if online else camera_offline_severity(camera, at),
        site=camera.site,
        camera_key=camera.key,
        occurred_at=at,
        detail={"camera_name": camera.name},
    )
