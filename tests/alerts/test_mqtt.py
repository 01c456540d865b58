"""MQTT against a real Mosquitto of our own: topics, payload schema, retained camera status, and
a broker stopped in the middle of a burst (everything arrives after it comes back)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.alerts.outbox import enqueue_alert
from api.alerts.payload import Alert, Trigger
from api.settings import Settings
from tests.alerts.conftest import add_alerts, alert_ids
from tests.alerts.receivers import Broker, Subscriber, wait_until
from tests.api.conftest import BACKENDS
from tests.api.world import World
from vision.kinds import Severity

OUTAGE_S = 30.0  # the 30 s broker outage


def mqtt_settings(alert_settings: Settings, broker: Broker) -> Settings:
    return alert_settings.model_copy(update={"mqtt_url": broker.url, "webhooks_enabled": False})


def test_topics_schema_and_retained_camera_status(
    world: World,
    broker: Broker,
    alert_settings: Settings,
    sessions: sessionmaker[Session],
    start_dispatcher: Any,
) -> None:
    sub = Subscriber(broker.port)
    start_dispatcher(mqtt_settings(alert_settings, broker))
    add_alerts(sessions, [world.site_a, world.site_b], 4, camera_key="cam/1+#")
    with sessions() as s, s.begin():
        enqueue_alert(
            s,
            trigger=Trigger.CAMERA_OFFLINE,
            event_id=uuid.uuid4(),
            kind="camera_offline",
            severity=Severity.RED,
            site=s.merge(world.site_a),
            camera_key=world.cam_a.key,
            occurred_at=datetime.now(UTC),
        )
    wait_until(lambda: len(sub.received.unique) == 5, 20, "5 alerts on MQTT")
    for doc in sub.docs.values():
        alert = Alert.model_validate(doc)  # the documented schema
        assert alert.region == alert.region_path[-1]
    topics = sorted(sub.topics)
    assert all(t.startswith("brightkitchen/") and t.endswith("/events") for t in topics)
    region_a, region_b = world.site_a.region_id.hex, world.site_b.region_id.hex
    assert f"brightkitchen/{region_a}/{world.site_a.id}/cam_1__/events" in topics  # key sanitized for MQTT
    assert f"brightkitchen/{region_b}/{world.site_b.id}/cam_1__/events" in topics
    sub.close()
    # a subscriber arriving later still learns the camera is offline (retained)
    late = Subscriber(broker.port, topic="brightkitchen/+/+/+/status")
    wait_until(lambda: len(late.retained) == 1, 10, "the retained status")
    ((topic, status),) = late.retained.items()
    assert topic.endswith(f"/{world.site_a.id}/{world.cam_a.key}/status")
    assert status["state"] == "offline" and status["camera_id"] == world.cam_a.key
    late.close()


def test_broker_stopped_during_a_burst_loses_nothing(
    world: World,
    backend: str,
    broker: Broker,
    alert_settings: Settings,
    sessions: sessionmaker[Session],
    start_dispatcher: Any,
    say: Any,
) -> None:
    if backend != BACKENDS[-1]:
        pytest.skip(f"the broker outage does not depend on the database; it runs once, on {BACKENDS[-1]}")
    sub = Subscriber(broker.port, client_id="bk-test-regulator")  # persistent session (clean_session=False)
    start_dispatcher(mqtt_settings(alert_settings, broker))
    add_alerts(sessions, [world.site_a, world.site_b], 500, per_txn=50)
    wait_until(lambda: len(sub.received.unique) >= 100, 60, "the burst to be under way")
    broker.stop()  # SIGTERM, as `pkill mosquitto`: the broker saves its persistence file
    stopped_at = time.monotonic()
    add_alerts(sessions, [world.site_a, world.site_b], 500, per_txn=50)  # written during the outage
    before = len(sub.received.unique)
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))
    broker.start()
    sent = alert_ids(sessions)
    wait_until(lambda: len(sub.received.unique) >= 1000, 90, "every alert after the broker came back")
    counts = sub.received.counts(alert_ids(sessions))
    say(f"\nMQTT broker outage {OUTAGE_S:.0f} s: {counts} (had {before} before the stop)")
    assert len(sent) <= 1000 and counts["sent"] == 1000
    assert counts["lost"] == 0 and counts["unique"] == 1000
    sub.close()
