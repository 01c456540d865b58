"""A process is SIGKILLed in the middle of a burst of 1,000 alerts and restarted: every alert
reaches every channel (webhook, MQTT, WebSocket) at least once, duplicates carry the same
alert_id, and the counts are printed (sent, received, duplicates, lost = 0).

Two deployments: the dispatcher as its own process (``brightkitchen dispatch``), and the default,
the dispatcher inside the API process (``brightkitchen serve``), where the kill also drops every
WebSocket connection and the dashboard resumes from the last alert_id it saw."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from api.settings import Settings
from tests.alerts.conftest import add_alerts, alert_ids
from tests.alerts.receivers import Broker, Received, Subscriber, WebhookReceiver, free_port, wait_until
from tests.api.world import World

ROOT = Path(__file__).resolve().parents[2]
BURST = 1000


def dispatcher_env(settings: Settings, broker: Broker, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BK_ENV": "test",
        "BK_DATA_DIR": str(tmp),
        "BK_DATABASE_URL": settings.sqlalchemy_url,
        "BK_SECRET_KEY": settings.secret_key.get_secret_value(),
        "BK_MQTT_URL": broker.url,
        "BK_MQTT_CLIENT_ID": f"bk-test-dispatch-{uuid.uuid4().hex[:8]}",
        "BK_WEBHOOKS_ENABLED": "true",
        "BK_WEBHOOK_ALLOW_HTTP": "true",
        "BK_WEBHOOK_ALLOW_NETWORKS": json.dumps(["127.0.0.0/8"]),
        "BK_WEBHOOK_RETRY_BASE_S": "0.2",
        "BK_ALERTS_POLL_INTERVAL_S": "0.05",
        "BK_LOG_LEVEL": "WARNING",
    }


def start_process(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def follow_websocket(world: World, received: Received, stop: threading.Event) -> threading.Thread:
    """An admin's dashboard: reads /ws/alerts from the start until it has the whole burst."""

    def run() -> None:
        with world.client.websocket_connect("/ws/alerts") as ws:
            ws.send_json({"token": world.token("admin"), "after": 0})
            while not stop.is_set():
                msg = ws.receive_json()
                if "alert_id" in msg:
                    received.add(int(msg["alert_id"]))
                    if len(received.unique) >= BURST:
                        return

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_dispatcher_sigkilled_mid_burst_loses_nothing(
    world: World,
    broker: Broker,
    receiver: WebhookReceiver,
    alert_settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    say: Any,
) -> None:
    r = world.client.post(
        "/api/alerts/webhooks",
        json={"url": receiver.url, "audience": "regulator"},
        headers=world.headers("admin"),
    )
    assert r.status_code == 201, r.text
    receiver.secrets = [r.json()["secret"]]
    mqtt = Subscriber(broker.port, client_id="bk-test-kill-sub")
    ws_received, ws_stop = Received(), threading.Event()
    ws_thread = follow_websocket(world, ws_received, ws_stop)

    add_alerts(sessions, [world.site_a, world.site_b], BURST, per_txn=50)
    env, log = dispatcher_env(alert_settings, broker, tmp_path), tmp_path / "dispatch.log"
    proc = start_process(env, log, "dispatch")
    try:
        # MQTT is the fastest channel: killing when it is a fifth through hits every channel mid-burst
        wait_until(lambda: len(mqtt.received.unique) >= 200, 60, "the burst to be under way")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        at_kill = {
            "webhook": len(receiver.received.unique),
            "mqtt": len(mqtt.received.unique),
            "websocket": len(ws_received.unique),
        }
        proc = start_process(env, log, "dispatch")
        channels = {"webhook": receiver.received, "mqtt": mqtt.received, "websocket": ws_received}
        for name, got in channels.items():
            wait_until(lambda got=got: len(got.unique) >= BURST, 90, f"all {BURST} alerts on {name}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        ws_stop.set()
        mqtt.close()
    sent = alert_ids(sessions)
    assert len(sent) == BURST
    say(f"\nSIGKILL mid-burst (unique alerts delivered at the kill: {at_kill})")
    for name, got in channels.items():
        counts = got.counts(sent)
        say(f"  {name:9s} {counts}")
        assert counts["lost"] == 0 and counts["unique"] == BURST, (name, counts)
    assert at_kill["webhook"] < BURST and at_kill["mqtt"] < BURST, f"the kill must land mid-burst: {at_kill}"
    assert receiver.rejected == 0, receiver.rejections
    ws_thread.join(timeout=5)
    text = log.read_text()
    assert "Traceback" not in text, text[-2000:]


def follow_websocket_resuming(
    url: str, token: str, received: Received, stop: threading.Event
) -> threading.Thread:
    """A dashboard on a real server: on any disconnect it reconnects and resumes after the last
    alert_id it saw (the server may be dead for a while)."""

    def run() -> None:
        last = 0
        while not stop.is_set() and len(received.unique) < BURST:
            try:
                with ws_connect(url, open_timeout=2) as ws:
                    ws.send(json.dumps({"token": token, "after": last}))
                    while not stop.is_set() and len(received.unique) < BURST:
                        try:
                            msg = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        if "alert_id" in msg:
                            received.add(int(msg["alert_id"]))
                            last = max(last, int(msg["alert_id"]))
            except (OSError, ConnectionClosed, TimeoutError):
                stop.wait(0.2)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_api_process_sigkilled_mid_burst_dashboards_resume(
    world: World,
    broker: Broker,
    receiver: WebhookReceiver,
    alert_settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    say: Any,
) -> None:
    r = world.client.post(
        "/api/alerts/webhooks",
        json={"url": receiver.url, "audience": "regulator"},
        headers=world.headers("admin"),
    )
    assert r.status_code == 201, r.text
    receiver.secrets = [r.json()["secret"]]
    port = free_port()
    env = {**dispatcher_env(alert_settings, broker, tmp_path), "BK_ALERTS_DISPATCHER": "inprocess"}
    log = tmp_path / "serve.log"
    proc = start_process(env, log, "serve", "--port", str(port))
    mqtt = Subscriber(broker.port, client_id="bk-test-kill-api-sub")
    ws_received, ws_stop = Received(), threading.Event()
    token = world.token("admin")  # the server shares the test's secret key and database
    ws_thread = follow_websocket_resuming(f"ws://127.0.0.1:{port}/ws/alerts", token, ws_received, ws_stop)
    try:
        wait_until(lambda: _up(port), 60, "the API to listen")
        add_alerts(sessions, [world.site_a, world.site_b], BURST // 2, per_txn=50)
        wait_until(lambda: len(ws_received.unique) >= 100, 60, "the burst to be under way")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        at_kill = {
            "webhook": len(receiver.received.unique),
            "mqtt": len(mqtt.received.unique),
            "websocket": len(ws_received.unique),
        }
        # the other half is written while the API is down (ingest keeps going during a redeploy)
        add_alerts(sessions, [world.site_a, world.site_b], BURST // 2, per_txn=50)
        proc = start_process(env, log, "serve", "--port", str(port))
        channels = {"webhook": receiver.received, "mqtt": mqtt.received, "websocket": ws_received}
        for name, got in channels.items():
            wait_until(lambda got=got: len(got.unique) >= BURST, 90, f"all {BURST} alerts on {name}")
    finally:
        ws_stop.set()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        mqtt.close()
    sent = alert_ids(sessions)
    say(f"\nAPI process (in-process dispatcher) SIGKILLed mid-burst (unique at the kill: {at_kill})")
    for name, got in channels.items():
        counts = got.counts(sent)
        say(f"  {name:9s} {counts}")
        assert counts["lost"] == 0 and counts["unique"] == BURST, (name, counts)
    assert len(sent) == BURST and at_kill["websocket"] < BURST, at_kill
    assert receiver.rejected == 0, receiver.rejections
    ws_thread.join(timeout=5)


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
