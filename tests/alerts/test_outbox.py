"""The outbox row commits (or rolls back) with the change that causes it; fan-out follows tiers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.alerts.fanout import MQTT_TARGET, sequence_batch
from api.alerts.outbox import AlertDelivery, AlertOutbox, Channel, WebhookSubscription, enqueue_alert
from api.alerts.payload import Alert, Trigger
from api.alerts.tiers import Audience, Cadence, TierConfig
from api.alerts.triggers import camera_offline_severity
from api.models import Camera, Event, Rectification
from api.review import escalate_overdue
from tests.alerts.conftest import add_alerts
from tests.api.world import World
from vision.kinds import Severity, ViolationKind
from vision.types import EventPhase, ViolationEvent


def outbox(sessions: sessionmaker[Session]) -> list[AlertOutbox]:
    with sessions() as s:
        return list(s.scalars(select(AlertOutbox).order_by(AlertOutbox.id)))


def test_rolled_back_change_leaves_no_alert(world: World, sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        enqueue_alert(
            s,
            trigger=Trigger.EVENT_OPENED,
            event_id=uuid.uuid4(),
            kind="rodent",
            severity=Severity.RED,
            site=s.merge(world.site_a),
            camera_key="cam",
            occurred_at=datetime.now(UTC),
        )
        s.flush()
        s.rollback()
    assert outbox(sessions) == []


def test_review_loop_writes_one_alert_per_change(
    world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    ev = world.ingest(world.cam_a, tmp_path, kind=ViolationKind.RODENT, severity=Severity.RED)
    world.ingest(world.cam_a, tmp_path)  # replays are harmless: the sink is idempotent
    headers = world.headers("reg_x")
    r = world.client.post(
        f"/api/events/{ev.id}/review", json={"decision": "confirm", "reason": "rat"}, headers=headers
    )
    assert r.status_code == 200, r.text
    r = world.client.post(
        f"/api/events/{ev.id}/rectifications", json={"instructions": "seal holes"}, headers=headers
    )
    assert r.status_code in (200, 201), r.text
    rows = [row for row in outbox(sessions) if row.event_id == uuid.UUID(ev.id)]
    assert [row.trigger for row in rows] == [
        Trigger.EVENT_OPENED,
        Trigger.EVENT_CONFIRMED,
        Trigger.RECTIFICATION_ORDERED,
    ]
    first = rows[0].payload
    assert (first["kind"], first["kind_zh"], first["severity"]) == ("rodent", "鼠患", "red")
    assert first["site_id"] == str(world.site_a.id) and first["camera_id"] == world.cam_a.key
    assert rows[0].region_path.endswith(first["region"] + "/")

    # overdue: the escalation job writes its alert in its own transaction
    with sessions() as s:
        rect = s.scalars(select(Rectification).where(Rectification.event_id == uuid.UUID(ev.id))).one()
        done = escalate_overdue(s, rect.deadline_at + timedelta(minutes=1))
        s.commit()
    assert len(done) == 1
    assert outbox(sessions)[-1].trigger is Trigger.RECTIFICATION_OVERDUE


def test_camera_offline_event_alerts_offline_then_online(
    world: World, sessions: sessionmaker[Session]
) -> None:
    ev = ViolationEvent(
        kind=ViolationKind.CAMERA_OFFLINE,
        severity=Severity.ORANGE,
        camera_id=world.cam_a.key,
        track_id=0,
        started_s=0.0,
        updated_s=60.0,
        confidence=1.0,
        xyxy=(0.0, 0.0, 1.0, 1.0),
        started_wall=datetime.now(UTC).timestamp(),
    )
    sink = world.sink()
    sink.emit(ev)
    ev.phase, ev.ended_s = EventPhase.CLOSE, 120.0
    sink.emit(ev)
    sink.emit(ev)  # replayed close: no second "online"
    rows = outbox(sessions)
    assert [r.trigger for r in rows] == [Trigger.CAMERA_OFFLINE, Trigger.CAMERA_ONLINE]
    assert rows[0].event_id == rows[1].event_id == uuid.UUID(ev.id)


@pytest.mark.parametrize(
    ("hhmm_utc", "expected"),
    [((2, 0), Severity.RED), ((13, 0), Severity.ORANGE)],  # 10:00 and 21:00 in Asia/Shanghai
)
def test_camera_offline_is_red_in_working_hours(
    world: World, sessions: sessionmaker[Session], hhmm_utc: tuple[int, int], expected: Severity
) -> None:
    with sessions() as s:
        cam = s.get_one(Camera, world.cam_a.id)
        cam.site.work_start, cam.site.work_end = time(6, 0), time(20, 0)
        at = datetime(2026, 3, 2, *hhmm_utc, tzinfo=UTC)
        assert camera_offline_severity(cam, at) is expected


def test_sequencing_numbers_alerts_and_plans_deliveries_by_tier(
    world: World, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        site_sub = WebhookSubscription(
            url="https://a.example.org/", audience=Audience.SITE, site_id=world.site_a.id, secret="s" * 20
        )
        reg = world.regions["px"]
        reg_sub = WebhookSubscription(
            url="https://r.example.org/",
            audience=Audience.REGULATOR,
            region_id=reg.id,
            region_path=reg.path,
            secret="r" * 20,
        )
        other = WebhookSubscription(
            url="https://b.example.org/", audience=Audience.SITE, site_id=world.site_b.id, secret="b" * 20
        )
        s.add_all([site_sub, reg_sub, other])
    for sev in (Severity.RED, Severity.ORANGE, Severity.YELLOW):
        add_alerts(sessions, [world.site_a], 1, severity=sev)
    now = datetime(2026, 3, 2, 1, 20, tzinfo=UTC)
    with sessions() as s, s.begin():
        assert sequence_batch(s, [Channel.MQTT, Channel.WEBHOOK], TierConfig(), now) == 3
    with sessions() as s, s.begin():
        assert sequence_batch(s, [Channel.MQTT, Channel.WEBHOOK], TierConfig(), now) == 0
    rows = outbox(sessions)
    assert [r.seq for r in rows] == [1, 2, 3]
    alerts = [r.to_alert() for r in rows]
    assert isinstance(alerts[0], Alert) and alerts[0].alert_id == 1
    with sessions() as s:
        plan = {
            (d.alert_id, d.channel, d.target): (d.cadence, d.due_at) for d in s.scalars(select(AlertDelivery))
        }
    red, orange, yellow = (r.id for r in rows)
    site_t, reg_t = site_sub.id.hex, reg_sub.id.hex
    hour = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    day = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert plan == {
        (red, Channel.MQTT, MQTT_TARGET): (Cadence.IMMEDIATE, now),
        (red, Channel.WEBHOOK, site_t): (Cadence.IMMEDIATE, now),
        (red, Channel.WEBHOOK, reg_t): (Cadence.IMMEDIATE, now),
        (orange, Channel.MQTT, MQTT_TARGET): (Cadence.IMMEDIATE, now),
        (orange, Channel.WEBHOOK, site_t): (Cadence.IMMEDIATE, now),
        (orange, Channel.WEBHOOK, reg_t): (Cadence.HOURLY, hour),
        (yellow, Channel.MQTT, MQTT_TARGET): (Cadence.IMMEDIATE, now),
        (yellow, Channel.WEBHOOK, site_t): (Cadence.DAILY, day),
        (yellow, Channel.WEBHOOK, reg_t): (Cadence.DAILY, day),
    }  # nothing for site B's subscription


def test_ingest_alert_names_the_event_site(
    world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The ingest hook reads the event's site and camera; both must be loaded from the row."""
    ev = world.ingest(world.cam_b, tmp_path, with_media=False)
    with sessions() as s:
        site_id = s.get_one(Event, uuid.UUID(ev.id)).site_id
    assert outbox(sessions)[-1].site_id == site_id == world.site_b.id
