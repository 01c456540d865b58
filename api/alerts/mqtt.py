"""MQTT channel: QoS 1 publishes to a broker, with a persistent session.

Topics::

    brightkitchen/<region>/<site>/<camera>/events   every alert (not retained)
    brightkitchen/<region>/<site>/<camera>/status   camera health, retained: {"state": "online"|"offline"}

Why QoS 1 + ``clean_session=False`` + a fixed client id: the broker keeps this client's session
(and every subscriber's, when they also connect persistently) across disconnects, and a publish
counts as delivered only when its PUBACK arrived. A publish the broker never acknowledged stays
pending in the outbox and is sent again after reconnect (possibly twice: same ``alert_id``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from api.alerts.payload import Alert, Trigger
from api.alerts.sinks import SendResult
from api.alerts.tiers import Cadence

log = logging.getLogger(__name__)
TOPIC_ROOT = "brightkitchen"


def events_topic(alert: Alert) -> str:
    return f"{TOPIC_ROOT}/{alert.region}/{alert.site_id}/{alert.camera_id}/events"


def status_topic(alert: Alert) -> str:
    return f"{TOPIC_ROOT}/{alert.region}/{alert.site_id}/{alert.camera_id}/status"


def status_payload(alert: Alert) -> bytes:
    state = "offline" if alert.trigger is Trigger.CAMERA_OFFLINE else "online"
    body = {
        "schema": "brightkitchen.camera-status/1",
        "camera_id": alert.camera_id,
        "site_id": alert.site_id,
        "state": state,
        "since": alert.occurred_at.isoformat(),
        "alert_id": alert.alert_id,
    }
    return json.dumps(body).encode("utf-8")


def parse_broker_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"BK_MQTT_URL {url!r}: expected mqtt://host:port")
    return parts.hostname, parts.port or 1883


class MqttSink:
    """Publishes alerts at QoS 1 and waits for each PUBACK (pipelined, in order)."""

    name = "mqtt"

    def __init__(self, url: str, *, client_id: str = "brightkitchen-dispatcher", ack_timeout_s: float = 10.0):
        self._host, self._port = parse_broker_url(url)
        self._ack_timeout_s = ack_timeout_s
        self._connected = threading.Event()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self._client.max_inflight_messages_set(200)
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        if not getattr(rc, "is_failure", False):
            self._connected.set()
            log.info("mqtt connected to %s:%d", self._host, self._port)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        self._connected.clear()
        log.warning("mqtt disconnected from %s:%d (%s)", self._host, self._port, rc)

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def send(self, target: str, alerts: Sequence[Alert], cadence: Cadence) -> SendResult:
        if not self._connected.is_set():
            return SendResult(0, f"not connected to the broker {self._host}:{self._port}")
        infos: list[list[mqtt.MQTTMessageInfo]] = []
        for alert in alerts:
            msgs = [self._client.publish(events_topic(alert), alert.to_json(), qos=1)]
            if alert.trigger in (Trigger.CAMERA_OFFLINE, Trigger.CAMERA_ONLINE):
                msgs.append(
                    self._client.publish(status_topic(alert), status_payload(alert), qos=1, retain=True)
                )
            infos.append(msgs)
        deadline = time.monotonic() + self._ack_timeout_s
        for done, msgs in enumerate(infos):
            for info in msgs:
                if not self._wait(info, deadline):
                    return SendResult(done, f"no PUBACK within {self._ack_timeout_s:.0f} s (rc={info.rc})")
        return SendResult(len(alerts))

    def _wait(self, info: mqtt.MQTTMessageInfo, deadline: float) -> bool:
        """Wait for the PUBACK; give up early when the connection dropped (retried later)."""
        while not info.is_published():
            left = deadline - time.monotonic()
            if left <= 0 or not self._connected.is_set():
                return False
            try:
                info.wait_for_publish(timeout=min(left, 0.5))
            except (RuntimeError, ValueError):
                return False
        return True

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
