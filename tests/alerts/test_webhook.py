"""Webhooks against a real HTTP receiver: signed, ordered, retried with backoff, dead-lettered,
resent by an admin, digested by tier, and never sent to an address the URL policy refuses."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.alerts.outbox import AlertDelivery, AlertOutbox, Channel, DeliveryStatus, WebhookSubscription
from api.alerts.tiers import Audience, Cadence
from api.models import utcnow
from tests.alerts.conftest import add_alerts
from tests.alerts.receivers import WebhookReceiver, wait_until
from tests.api.world import World
from vision.kinds import Severity


def subscribe(world: World, receiver: WebhookReceiver, **scope: Any) -> str:
    """Create a subscription through the admin API; the receiver learns its secret."""
    body = {"url": receiver.url, "audience": "regulator", **{k: str(v) for k, v in scope.items()}}
    r = world.client.post("/api/alerts/webhooks", json=body, headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    receiver.secrets = [r.json()["secret"]]
    return str(r.json()["id"])


def test_signed_alerts_arrive_once_in_site_order(
    world: World, receiver: WebhookReceiver, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    subscribe(world, receiver, region_id=world.regions["px"].id)  # region X holds site A only
    start_dispatcher()
    add_alerts(sessions, [world.site_a, world.site_b], 60, per_txn=7)
    wait_until(lambda: len(receiver.received.unique) >= 30, 30, "30 alerts of site A")
    with sessions() as s:
        site_a_ids = sorted(
            int(seq)
            for seq in s.scalars(select(AlertOutbox.seq).where(AlertOutbox.site_id == world.site_a.id))
        )
    assert receiver.received.ids == site_a_ids  # each once, in alert_id order, nothing of site B
    assert receiver.rejected == 0, receiver.rejections
    assert all(b["site_id"] == str(world.site_a.id) for b in receiver.bodies)


def test_receiver_failing_then_recovering_gets_the_alert_with_backoff(
    world: World, receiver: WebhookReceiver, sessions: sessionmaker[Session], start_dispatcher: Any, say: Any
) -> None:
    subscribe(world, receiver, site_id=world.site_a.id)
    receiver.fail_first = 4
    start_dispatcher()
    add_alerts(sessions, [world.site_a], 3)
    wait_until(lambda: len(receiver.received.unique) == 3, 30, "3 alerts after 4 failures")
    tries = [t for t, alert_id, _ in receiver.requests if alert_id == receiver.received.ids[0]]
    gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
    expected = [0.2, 0.4, 0.8, 1.6]  # base 0.2 s, doubling (BK_WEBHOOK_RETRY_BASE_S in the test settings)
    say(f"\nretry gaps (s): {[round(g, 3) for g in gaps]} expected at least {expected}")
    assert len(tries) == 5, receiver.requests
    assert [code for _, _, code in receiver.requests[:5]] == [500] * 4 + [200], receiver.requests
    assert all(g >= e * 0.95 for g, e in zip(gaps, expected, strict=True)), gaps
    assert receiver.received.ids == sorted(set(receiver.received.ids))  # the two behind it waited, in order

    def first_delivery() -> AlertDelivery | None:
        with sessions() as s:
            return s.scalars(select(AlertDelivery).order_by(AlertDelivery.id)).first()

    # the receiver's 200 comes before the dispatcher records it
    wait_until(
        lambda: getattr(first_delivery(), "status", None) is DeliveryStatus.DELIVERED, 10, "the record"
    )
    first = first_delivery()
    assert first is not None and first.attempts == 5, first and (first.attempts, first.last_error)


@pytest.mark.alert_settings(webhook_give_up_after_s=1.0)
def test_dead_letter_is_listed_and_resent_by_an_admin(
    world: World, receiver: WebhookReceiver, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    subscribe(world, receiver, site_id=world.site_a.id)
    receiver.fail_first = 10**6
    start_dispatcher()
    add_alerts(sessions, [world.site_a], 2)
    admin = world.headers("admin")

    def dead() -> list[dict[str, Any]]:
        r = world.client.get("/api/alerts/dead-letters", headers=admin)
        assert r.status_code == 200, r.text
        return list(r.json()["data"])

    wait_until(lambda: len(dead()) == 2, 30, "both deliveries in the dead-letter list")
    assert {d["last_error"] for d in dead()} == {"HTTP 500"}
    assert world.client.get("/api/alerts/dead-letters", headers=world.headers("reg_x")).status_code == 403
    receiver.fail_first = 0
    for d in sorted(dead(), key=lambda d: d["id"]):
        r = world.client.post(f"/api/alerts/dead-letters/{d['id']}/resend", headers=admin)
        assert r.status_code == 200, r.text
    wait_until(lambda: len(receiver.received.unique) == 2, 30, "resent alerts")
    assert dead() == []
    r = world.client.post("/api/alerts/dead-letters/999999/resend", headers=admin)
    assert r.status_code == 404


def test_orange_goes_to_the_regulator_in_an_hourly_digest(
    world: World, receiver: WebhookReceiver, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    subscribe(world, receiver, region_id=world.regions["px"].id)
    start_dispatcher()
    add_alerts(sessions, [world.site_a], 5, severity=Severity.ORANGE)
    add_alerts(sessions, [world.site_a], 1, severity=Severity.RED)
    wait_until(lambda: len(receiver.received.unique) == 1, 20, "the red alert, immediately")
    with sessions() as s:
        hourly = AlertDelivery.cadence == Cadence.HOURLY
        waiting = s.scalars(select(AlertDelivery).where(hourly)).all()
        assert len(waiting) == 5
        assert all(d.status is DeliveryStatus.PENDING and d.due_at.minute == 0 for d in waiting)
        assert all(d.due_at > utcnow() for d in waiting)
        s.execute(update(AlertDelivery).where(hourly).values(due_at=utcnow()))  # the hour has come
        s.commit()
    wait_until(lambda: len(receiver.received.unique) == 6, 20, "the digest")
    digest = receiver.bodies[-1]
    assert digest["schema"] == "brightkitchen.digest/1" and digest["cadence"] == "hourly"
    assert [a["severity"] for a in digest["alerts"]] == ["orange"] * 5


@pytest.mark.alert_settings(webhook_allow_networks=[])
def test_url_policy_refuses_private_targets_at_creation_and_delivery(
    world: World, receiver: WebhookReceiver, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    admin = world.headers("admin")
    for url in (receiver.url, "http://10.0.0.1/h", "http://169.254.169.254/latest", "http://[::1]:80/"):
        r = world.client.post("/api/alerts/webhooks", json={"url": url, "audience": "site"}, headers=admin)
        assert r.status_code == 400 and "url refused" in r.json()["detail"], (url, r.text)
    with sessions() as s:  # a row that predates a policy change: refused at delivery time too
        sub = WebhookSubscription(
            url=receiver.url, audience=Audience.SITE, site_id=world.site_a.id, secret="s" * 20
        )
        s.add(sub)
        s.commit()
    start_dispatcher()
    add_alerts(sessions, [world.site_a], 1)

    def refused() -> bool:
        with sessions() as s:
            d = s.scalars(select(AlertDelivery).where(AlertDelivery.channel == Channel.WEBHOOK)).first()
            return d is not None and d.attempts >= 1

    wait_until(refused, 20, "a refused attempt")
    with sessions() as s:
        d = s.scalars(select(AlertDelivery)).one()
        assert d.status is DeliveryStatus.PENDING and "URL policy" in (d.last_error or "")
    assert receiver.requests == []


def test_secret_rotation_signs_with_both_secrets(
    world: World, receiver: WebhookReceiver, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    sub_id = subscribe(world, receiver, site_id=world.site_a.id)
    admin = world.headers("admin")
    r = world.client.post(f"/api/alerts/webhooks/{sub_id}/rotate", headers=admin)
    assert r.status_code == 200 and r.json()["rotating"] is True
    receiver.secrets = [r.json()["secret"]]  # the receiver already switched to the new secret
    start_dispatcher()
    add_alerts(sessions, [world.site_a], 2)
    wait_until(lambda: len(receiver.received.unique) == 2, 20, "alerts verified with the new secret")
    assert receiver.rejected == 0, receiver.rejections
    assert world.client.post(f"/api/alerts/webhooks/{sub_id}/retire-old", headers=admin).status_code == 200
    listed = world.client.get("/api/alerts/webhooks", headers=admin).json()
    assert (
        listed["count"] == 1 and listed["data"][0]["rotating"] is False and "secret" not in listed["data"][0]
    )
    assert uuid.UUID(listed["data"][0]["id"]) == uuid.UUID(sub_id)


def test_a_failing_receiver_does_not_hold_back_the_others(
    world: World, sessions: sessionmaker[Session], start_dispatcher: Any
) -> None:
    down, up = WebhookReceiver([]), WebhookReceiver([])
    try:
        subscribe(world, down, site_id=world.site_a.id)
        subscribe(world, up, site_id=world.site_a.id)
        down.fail_first = 10**6
        start_dispatcher()
        add_alerts(sessions, [world.site_a], 300)  # far more than one pass reads
        wait_until(lambda: len(up.received.unique) == 300, 60, "the healthy receiver's 300 alerts")
        assert up.received.ids == sorted(up.received.ids) and down.received.ids == []
        assert len({alert_id for _, alert_id, _ in down.requests}) == 1  # only the head is retried
    finally:
        down.close()
        up.close()
