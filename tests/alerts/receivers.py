"""Real receivers for alert tests: an HTTP webhook server, a Mosquitto broker of our own and a
persistent MQTT subscriber. Nothing is mocked: sockets, broker and persistence are real."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from api.alerts.signing import InvalidSignature, verify_signature


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """What one channel got: every alert id in arrival order (duplicates included)."""

    ids: list[int] = field(default_factory=list)
    first_at: dict[int, float] = field(default_factory=dict)  # alert id → first arrival (monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, alert_id: int) -> None:
        now = time.monotonic()
        with self.lock:
            self.ids.append(alert_id)
            self.first_at.setdefault(alert_id, now)

    @property
    def unique(self) -> set[int]:
        with self.lock:
            return set(self.ids)

    def counts(self, sent: set[int]) -> dict[str, int]:
        with self.lock:
            c = Counter(self.ids)
        return {
            "sent": len(sent),
            "received": sum(c.values()),
            "unique": len(set(c) & sent),
            "duplicates": sum(n - 1 for n in c.values()),
            "lost": len(sent - set(c)),
        }


def wait_until(cond: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


class WebhookReceiver:
    """A threaded HTTP server verifying every request with the reference verifier.

    ``fail_first``: answer 500 to that many requests before answering 200.
    """

    def __init__(self, secrets: list[str], fail_first: int = 0):
        self.secrets = secrets
        self.fail_first = fail_first
        self.received = Received()
        self.requests: list[tuple[float, int | None, int]] = []  # (monotonic time, alert id, status)
        self.bodies: list[dict[str, Any]] = []
        self.rejected = 0
        self.rejections: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (SIGKILL): nothing arrived
                    self.close_connection = True
                    return
                receiver._handle(self, body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            verify_signature(body, dict(h.headers.items()), self.secrets)
        except InvalidSignature as exc:
            with self._lock:
                self.rejected += 1
                self.rejections.append(f"{exc} (body {body[:80]!r}, headers {dict(h.headers.items())})")
            self._answer(h, 401)
            return
        doc = json.loads(body)
        alerts = doc["alerts"] if "alerts" in doc else [doc]
        with self._lock:
            fail = self.fail_first > 0
            if fail:
                self.fail_first -= 1
            self.requests.append(
                (time.monotonic(), alerts[0]["alert_id"] if alerts else None, 500 if fail else 200)
            )
            if not fail:
                self.bodies.append(doc)
        if fail:
            self._answer(h, 500)
            return
        for a in alerts:
            self.received.add(int(a["alert_id"]))
        self._answer(h, 200)

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, code: int) -> None:
        h.send_response(code)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Broker:
    """Our own Mosquitto (not the shared one on 1883): persistence on, queue unlimited."""

    def __init__(self, workdir: Path):
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "user root\n"
            "persistence true\n"
            f"persistence_location {self.dir}/\n"
            "autosave_interval 60\n"
            "persistent_client_expiration 1d\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            f"log_dest file {self.dir}/mosquitto.log\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)])
        wait_until(self._listening, 10, "mosquitto to listen")

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM, like ``pkill mosquitto``: the broker saves its persistence file and exits."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class Subscriber:
    """A persistent-session QoS 1 subscriber (what a regulator's system should run)."""

    def __init__(self, port: int, topic: str = "brightkitchen/#", client_id: str | None = None):
        self.received = Received()
        self.topics: set[str] = set()
        self.docs: dict[int, dict[str, Any]] = {}
        self.retained: dict[str, dict[str, Any]] = {}
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"bk-test-sub-{uuid.uuid4().hex[:8]}",
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscriber never got its SUBACK"

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        doc = json.loads(msg.payload)
        if msg.topic.endswith("/status"):
            self.retained[msg.topic] = doc
            return
        self.topics.add(msg.topic)
        self.docs[int(doc["alert_id"])] = doc
        self.received.add(int(doc["alert_id"]))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
