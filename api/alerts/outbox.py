"""The outbox: alert rows written in the same transaction as the change that causes them.

Why: if the API committed an event and then tried to publish, a crash or a broker restart in
between would lose the alert; if it published first, a rollback would announce something that
never happened. Writing the alert into the database with the change makes both commit or neither.
The dispatcher later fans each row out into one ``alert_deliveries`` row per channel and target
and marks each delivered only after the receiver acknowledged it (at-least-once).

``seq`` is the public ``alert_id``: it is assigned by the single active dispatcher when it first
reads a committed row, so it grows in the order alerts became visible (a plain autoincrement key
does not: two transactions can commit out of key order, and a reader resuming "after id N" would
skip the late one).

Example (inside the transaction that opens an event)::

    enqueue_alert(session, trigger=Trigger.EVENT_OPENED, event_id=ev.id, kind="rodent",
                  severity=Severity.RED, site=site, camera_key="cam-1", occurred_at=ev.started_at)
    session.commit()
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.alerts.payload import Alert, Trigger
from api.alerts.tiers import Audience, Cadence
from api.models.base import Base, UTCDateTime, str_enum, utcnow
from api.models.site import Site
from vision.kinds import KIND_ZH, Severity, ViolationKind

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
NOTIFY_CHANNEL = "brightkitchen_alerts"


class Channel(StrEnum):
    WEBHOOK = "webhook"
    MQTT = "mqtt"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class AlertOutbox(Base):
    __tablename__ = "alert_outbox"
    __table_args__ = (
        Index(
            "ix_alert_outbox_unsequenced",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(index=True)
    trigger: Mapped[Trigger] = mapped_column(str_enum(Trigger, "alert_trigger"))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "alert_severity"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    region_path: Mapped[str] = mapped_column(String(400))
    camera_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the immutable message, minus alert_id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sequenced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def to_alert(self) -> Alert:
        if self.seq is None:
            raise ValueError(f"outbox row {self.id} has no alert_id yet (not sequenced)")
        return Alert.model_validate({**self.payload, "alert_id": self.seq})


class WebhookSubscription(Base):
    """A receiver URL for one audience and scope: a site, a region subtree, or everything."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(Text)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "webhook_audience"))
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sites.id"), index=True)
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    region_path: Mapped[str | None] = mapped_column(String(400))
    secret: Mapped[str] = mapped_column(String(128))
    secret_next: Mapped[str | None] = mapped_column(String(128))  # second active secret (rotation)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.secret, self.secret_next) if s]

    def matches(self, row: AlertOutbox) -> bool:
        if self.site_id is not None:
            return row.site_id == self.site_id
        if self.region_path is not None:
            return row.region_path.startswith(self.region_path)
        return True


class AlertDelivery(Base):
    """One alert to one channel target; delivered, pending (with its retry time) or dead."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "target"),
        Index("ix_alert_deliveries_queue", "channel", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert_outbox.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "alert_channel"))
    target: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[uuid.UUID] = mapped_column()
    cadence: Mapped[Cadence] = mapped_column(str_enum(Cadence, "alert_cadence"))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


def _topic_safe(value: str) -> str:
    """MQTT topic levels may not contain '/', '+', '#' (or be empty)."""
    cleaned = "".join("_" if ch in "/+#\x00" else ch for ch in value)
    return cleaned or "-"


def enqueue_alert(
    session: Session,
    *,
    trigger: Trigger,
    event_id: uuid.UUID,
    kind: str,
    severity: Severity,
    site: Site,
    camera_key: str | None,
    occurred_at: datetime,
    message: str = "",
    detail: dict[str, Any] | None = None,
) -> AlertOutbox:
    """Add an alert to ``session``'s transaction (no commit: the caller commits with its change)."""
    region_path = site.region.path
    region_ids = [p for p in region_path.split("/") if p]
    try:
        kind_zh = KIND_ZH[ViolationKind(kind)]
    except ValueError:
        kind_zh = ""
    now = utcnow()
    payload = {
        "schema": "brightkitchen.alert/1",
        "event_id": str(event_id),
        "trigger": trigger.value,
        "kind": kind,
        "kind_zh": kind_zh,
        "severity": severity.value,
        "region": region_ids[-1] if region_ids else "-",
        "region_path": region_ids,
        "site_id": str(site.id),
        "site_name": site.name,
        "camera_id": _topic_safe(camera_key or "-"),
        "occurred_at": occurred_at.isoformat(),
        "created_at": now.isoformat(),
        "message": message,
        "detail": detail or {},
    }
    row = AlertOutbox(
        event_id=event_id,
        trigger=trigger,
        severity=severity,
        site_id=site.id,
        region_path=region_path,
        camera_key=payload["camera_id"],
        payload=payload,
        created_at=now,
    )
    session.add(row)
    session.info[_NOTIFY_FLAG] = True  # one NOTIFY per transaction, issued just before it commits
    return row


_NOTIFY_FLAG = "brightkitchen_alerts_notify"


@event.listens_for(Session, "before_commit")
def _notify_dispatcher(session: Session) -> None:
    """PostgreSQL delivers a NOTIFY only when its transaction commits: the wake-up never precedes
    the row. Other databases rely on the dispatcher's poll."""
    if session.info.pop(_NOTIFY_FLAG, False) and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
