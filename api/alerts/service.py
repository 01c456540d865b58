"""Building the alert machinery from ``Settings``: hub, outbox tail, dispatcher and its sinks.

The API's ``lifespan`` builds one ``AlertService`` (dispatcher in-process unless
``BK_ALERTS_DISPATCHER=external``); ``brightkitchen dispatch`` builds just the dispatcher.
The demo needs nothing: with ``BK_MQTT_URL`` empty and ``BK_WEBHOOKS_ENABLED=false`` the only
channel is the WebSocket hub.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from api.alerts.dispatcher import Dispatcher
from api.alerts.outbox import Channel, WebhookSubscription
from api.alerts.sinks import AlertSink, RetryPolicy
from api.alerts.tiers import TierConfig
from api.alerts.urlpolicy import UrlPolicy
from api.alerts.webhook import WebhookSink, WebhookTarget
from api.alerts.ws import AlertHub, OutboxTail, WebSocketSink
from api.settings import Settings

log = logging.getLogger(__name__)


def url_policy(settings: Settings) -> UrlPolicy:
    return UrlPolicy(
        allow_hosts=tuple(settings.webhook_allow_hosts),
        allow_networks=tuple(settings.webhook_allow_networks),
        allow_http=settings.webhook_allow_http,
    )


@dataclass
class SubscriptionCache:
    """Webhook targets by id, re-read from the database at most every ``ttl_s`` per id."""

    sessions: sessionmaker[Session]
    ttl_s: float = 5.0
    _cache: dict[str, tuple[float, WebhookTarget | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, target: str) -> WebhookTarget | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(target)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        try:
            sub_id = uuid.UUID(hex=target)
        except ValueError:
            return None
        with self.sessions() as s:
            sub = s.get(WebhookSubscription, sub_id)
            value = WebhookTarget(sub.url, tuple(sub.secrets)) if sub is not None and sub.active else None
        with self._lock:
            self._cache[target] = (now, value)
        return value


def build_sinks(settings: Settings, sessions: sessionmaker[Session]) -> dict[Channel, AlertSink]:
    """The push channels that settings turn on (none in the demo)."""
    sinks: dict[Channel, AlertSink] = {}
    if settings.mqtt_url:
        from api.alerts.mqtt import MqttSink

        sinks[Channel.MQTT] = MqttSink(settings.mqtt_url, client_id=settings.mqtt_client_id)
    if settings.webhooks_enabled:
        sinks[Channel.WEBHOOK] = WebhookSink(
            SubscriptionCache(sessions), url_policy(settings), timeout_s=settings.webhook_timeout_s
        )
    return sinks


def build_dispatcher(
    settings: Settings, sessions: sessionmaker[Session], on_sequenced: OutboxTail | None = None
) -> Dispatcher:
    retry = {
        Channel.WEBHOOK: RetryPolicy(
            base_s=settings.webhook_retry_base_s,
            max_delay_s=settings.webhook_retry_max_delay_s,
            give_up_after_s=settings.webhook_give_up_after_s,
        )
    }
    return Dispatcher(
        sessions,
        build_sinks(settings, sessions),
        TierConfig.load(settings.alerts_tiers_file),
        retry=retry,
        poll_interval_s=settings.alerts_poll_interval_s,
        on_sequenced=on_sequenced.wake.set if on_sequenced is not None else None,
    )


@dataclass
class AlertService:
    """What the API process runs for alerts; ``start()`` in lifespan, ``stop()`` on shutdown."""

    hub: AlertHub
    tail: OutboxTail
    dispatcher: Dispatcher | None

    @classmethod
    def build(cls, settings: Settings, sessions: sessionmaker[Session]) -> AlertService:
        hub = AlertHub()
        tail = OutboxTail(sessions, WebSocketSink(hub), poll_interval_s=settings.alerts_poll_interval_s)
        dispatcher = None
        if settings.alerts_dispatcher == "inprocess":
            dispatcher = build_dispatcher(settings, sessions, on_sequenced=tail)
        return cls(hub=hub, tail=tail, dispatcher=dispatcher)

    def start(self) -> None:
        self.tail.start()
        if self.dispatcher is not None:
            self.dispatcher.start()

    def stop(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop()
        self.tail.stop()
