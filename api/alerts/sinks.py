"""``AlertSink``: the one shape every alert channel has.

The dispatcher hands a sink an ordered batch of alerts for one target (a webhook subscription,
the MQTT broker, the WebSocket hub) and learns how many of them, from the start, the receiver
acknowledged. Anything after the first failure is retried later, so per-site order holds and
nothing is marked delivered that was not acknowledged.

Channels: ``WebSocketSink`` (api/alerts/ws.py), ``WebhookSink`` (api/alerts/webhook.py),
``MqttSink`` (api/alerts/mqtt.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from api.alerts.payload import Alert
from api.alerts.tiers import Cadence


@dataclass(frozen=True, slots=True)
class SendResult:
    """``delivered``: alerts acknowledged, counted from the start of the batch."""

    delivered: int
    error: str | None = None


@runtime_checkable
class AlertSink(Protocol):
    """A channel. ``send`` must not raise for receiver trouble: it reports it in ``SendResult``."""

    name: str

    def send(self, target: str, alerts: Sequence[Alert], cadence: Cadence) -> SendResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: ``base_s * factor**(attempt-1)`` capped at ``max_delay_s``; a delivery
    still failing ``give_up_after_s`` after it became due goes to the dead-letter list (webhooks)
    or, with ``give_up_after_s=None``, is retried for ever (MQTT: the broker is ours)."""

    base_s: float = 5.0
    factor: float = 2.0
    max_delay_s: float = 3600.0
    give_up_after_s: float | None = 86400.0

    def delay_s(self, attempts: int) -> float:
        return float(min(self.base_s * self.factor ** max(attempts - 1, 0), self.max_delay_s))
