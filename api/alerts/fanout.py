"""Sequencing and fan-out: committed outbox rows become numbered alerts with delivery rows.

One transaction per batch assigns ``seq`` (the public ``alert_id``) and inserts one
``alert_deliveries`` row per channel target, with its due time from the tier policy. A crash
before the commit leaves the rows unsequenced and the next dispatcher does it again; a crash
after it leaves pending deliveries. Either way nothing is lost.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from api.alerts.outbox import AlertDelivery, AlertOutbox, Channel, DeliveryStatus, WebhookSubscription
from api.alerts.tiers import Cadence, TierConfig

MQTT_TARGET = "broker"


def _region_ids(row: AlertOutbox) -> list[str]:
    return [p for p in row.region_path.split("/") if p]


def plan_deliveries(
    row: AlertOutbox,
    channels: Collection[Channel],
    subscriptions: list[WebhookSubscription],
    tiers: TierConfig,
    now: datetime,
) -> list[dict[str, Any]]:
    """Delivery rows for one alert. MQTT is the raw feed (every alert, at once); webhooks follow
    the tier policy of the site's region for the subscription's audience."""
    base = {"alert_id": row.id, "site_id": row.site_id, "status": DeliveryStatus.PENDING, "attempts": 0}
    out: list[dict[str, Any]] = []
    if Channel.MQTT in channels:
        out.append(
            {
                **base,
                "channel": Channel.MQTT,
                "target": MQTT_TARGET,
                "cadence": Cadence.IMMEDIATE,
                "due_at": now,
            }
        )
    if Channel.WEBHOOK in channels:
        policy = tiers.policy_for(_region_ids(row))
        for sub in subscriptions:
            if not sub.matches(row):
                continue
            due = policy.due_at(row.severity, sub.audience, now)
            if due is None:
                continue
            cadence = policy.rule(row.severity).cadence(sub.audience)
            out.append(
                {**base, "channel": Channel.WEBHOOK, "target": sub.id.hex, "cadence": cadence, "due_at": due}
            )
    return out


def sequence_batch(
    session: Session, channels: Collection[Channel], tiers: TierConfig, now: datetime, limit: int = 500
) -> int:
    """Number the oldest unsequenced rows and plan their deliveries; the caller commits."""
    rows = list(
        session.scalars(
            select(AlertOutbox).where(AlertOutbox.seq.is_(None)).order_by(AlertOutbox.id).limit(limit)
        )
    )
    if not rows:
        return 0
    subs: list[WebhookSubscription] = []
    if Channel.WEBHOOK in channels:
        subs = list(session.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True))))
    seq = int(session.scalar(select(func.max(AlertOutbox.seq))) or 0)
    numbered: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    for row in rows:
        seq += 1
        numbered.append({"id": row.id, "seq": seq, "sequenced_at": now})
        deliveries.extend(plan_deliveries(row, channels, subs, tiers, now))
    session.execute(update(AlertOutbox), numbered)
    if deliveries:
        session.execute(insert(AlertDelivery), deliveries)
    return len(rows)
