"""Alert latency and throughput: from the commit of the change to arrival on MQTT, on a webhook and
on a WebSocket.

    .venv/bin/python benchmarks/alerts.py                    # 10,000 alerts at 200/s, then 10,000 at once
    .venv/bin/python benchmarks/alerts.py --alerts 2000 --rate 200 --db sqlite

Sets up, all real and on loopback: its own PostgreSQL schema (or a SQLite file), its own Mosquitto
(persistence on), an HTTP receiver verifying every signature, the API under uvicorn with the
dispatcher in-process (MQTT + webhooks on; WebSocket hub), a persistent QoS 1 MQTT subscriber and
an admin's WebSocket client. ``--sites`` sites, red alerts (immediate on every channel).

- paced: ``--alerts`` alerts at ``--rate`` per second (transactions of 10); latency per channel =
  first arrival − the producer's clock right after COMMIT; p50/p95/p99 in ms.
- burst: ``--alerts`` more written as fast as possible (transactions of 1,000); sustained alerts/s
  per channel = alerts / (last arrival − first commit).

Prints the numbers from one run. The producer, the receivers, the API, PostgreSQL and Mosquitto
share this machine's CPU: on a small machine the numbers are a floor. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.alerts.outbox import AlertOutbox, WebhookSubscription, enqueue_alert  # noqa: E402
from api.alerts.payload import Trigger  # noqa: E402
from api.alerts.tiers import Audience  # noqa: E402
from api.db import make_engine, make_session_factory, upgrade  # noqa: E402
from api.main import create_app  # noqa: E402
from api.models import Region, RegionLevel, Role, Site, SiteKind, User  # noqa: E402
from api.security import TokenService  # noqa: E402
from api.settings import Settings  # noqa: E402
from tests.alerts.receivers import Broker, Received, Subscriber, WebhookReceiver, free_port  # noqa: E402
from vision.kinds import Severity  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "whsec_bench_" + uuid.uuid4().hex


def make_settings(db: str, tmp: Path, broker: Broker) -> tuple[Settings, str | None]:
    schema = None
    if db == "postgres":
        schema = f"bk_bench_alerts_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(
            make_url(PG_URL).set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        url = str(make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}))
    else:
        url = f"sqlite:///{tmp / 'alerts.db'}"
    settings = Settings(
        env="test",
        data_dir=tmp,
        database_url=url,
        secret_key="bench-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        escalation_interval_s=0,
        mqtt_url=broker.url,
        mqtt_client_id=f"bk-bench-{uuid.uuid4().hex[:6]}",
        webhooks_enabled=True,
        webhook_allow_http=True,
        webhook_allow_networks=["127.0.0.0/8"],
        log_level="WARNING",
    )
    return settings, schema


def build_world(settings: Settings, n_sites: int, hook_url: str) -> tuple[list[Site], str]:
    sessions = make_session_factory(make_engine(settings))
    with sessions() as s, s.begin():
        rid = uuid.uuid4()
        region = Region(
            id=rid, name="Bench province", level=RegionLevel.PROVINCE, parent_id=None, path=f"/{rid.hex}/"
        )
        s.add(region)
        sites = [
            Site(
                name=f"Kitchen {i}",
                kind=SiteKind.SCHOOL_CANTEEN,
                licence_no=f"BENCH{i:05d}",
                address="-",
                region=region,
            )
            for i in range(n_sites)
        ]
        s.add_all(sites)
        admin = User(username="bench-admin", password_hash="-", role=Role.ADMIN)
        s.add(admin)
        s.add(WebhookSubscription(url=hook_url, audience=Audience.REGULATOR, secret=SECRET))
    return sites, TokenService(settings).issue(admin)


def produce(settings: Settings, sites: list[Site], n: int, rate: float, per_txn: int) -> dict[str, float]:
    """Write ``n`` alerts; return event id → the clock right after its transaction committed."""
    sessions = make_session_factory(make_engine(settings))
    committed: dict[str, float] = {}
    t0 = time.monotonic()
    print(f"  writing {n} alerts" + (f" at {rate:.0f}/s" if rate else " as fast as possible"), flush=True)
    with sessions() as s:
        local = [s.merge(site) for site in sites]
        s.commit()
        for start in range(0, n, per_txn):
            if rate > 0:
                time.sleep(max(0.0, t0 + start / rate - time.monotonic()))
            ids = []
            for i in range(start, min(n, start + per_txn)):
                ev = uuid.uuid4()
                enqueue_alert(
                    s,
                    trigger=Trigger.EVENT_OPENED,
                    event_id=ev,
                    kind="rodent",
                    severity=Severity.RED,
                    site=local[i % len(local)],
                    camera_key="cam-1",
                    occurred_at=datetime.now(UTC),
                )
                ids.append(str(ev))
            s.commit()
            done = time.monotonic()
            committed.update(dict.fromkeys(ids, done))
    took = time.monotonic() - t0
    print(f"  written in {took:.1f} s ({n / took:.0f} alerts/s committed)", flush=True)
    return committed


def follow_ws(port: int, token: str, got: Received, stop: threading.Event) -> None:
    with connect(f"ws://127.0.0.1:{port}/ws/alerts", max_size=None) as ws:
        ws.send(json.dumps({"token": token}))
        while not stop.is_set():
            try:
                msg = json.loads(ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            if "alert_id" in msg:
                got.add(int(msg["alert_id"]))


def event_of_alert(settings: Settings) -> dict[int, str]:
    with make_session_factory(make_engine(settings))() as s:
        return {
            int(seq): str(ev) for seq, ev in s.execute(select(AlertOutbox.seq, AlertOutbox.event_id)) if seq
        }


def wait_all(channels: dict[str, Received], total: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(len(r.unique) < total for r in channels.values()):
        time.sleep(0.1)
    for name, r in channels.items():
        if len(r.unique) < total:
            print(f"  !! {name}: only {len(r.unique)} of {total} arrived within {timeout_s:.0f} s")


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]
        if len(values) > 1
        else values[0]
    )


def report(
    phase: str, channels: dict[str, Received], committed: dict[str, float], alert_event: dict[int, str]
) -> None:
    print(f"\n{phase}")
    cols = ("n", "p50 ms", "p95 ms", "p99 ms", "max ms", "alerts/s", "dups")
    print(f"  {'channel':10s} " + " ".join(f"{c:>8s}" for c in cols))
    for name, r in channels.items():
        lat = [
            (t - committed[alert_event[a]]) * 1000
            for a, t in r.first_at.items()
            if a in alert_event and alert_event[a] in committed
        ]
        if not lat:
            print(f"  {name:10s} no arrivals")
            continue
        first_commit = min(committed.values())
        last = max(t for a, t in r.first_at.items() if alert_event.get(a) in committed)
        rate = len(lat) / max(last - first_commit, 1e-9)
        dups = len(r.ids) - len(r.unique)
        print(
            f"  {name:10s} {len(lat):8d} {pct(lat, 50):8.1f} {pct(lat, 95):8.1f} {pct(lat, 99):8.1f} "
            f"{max(lat):8.1f} {rate:8.0f} {dups:8d}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=200.0, help="paced phase: alerts per second")
    ap.add_argument("--sites", type=int, default=20)
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bk-bench-alerts-"))
    broker = Broker(tmp / "mosquitto")
    broker.start()
    hook = WebhookReceiver([SECRET])
    settings, schema = make_settings(args.db, tmp, broker)
    upgrade(settings)
    sites, token = build_world(settings, args.sites, hook.url)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    mqtt = Subscriber(broker.port, client_id=f"bk-bench-sub-{uuid.uuid4().hex[:6]}")
    ws_got, stop = Received(), threading.Event()
    threading.Thread(target=follow_ws, args=(port, token, ws_got, stop), daemon=True).start()
    time.sleep(1.0)
    channels = {"mqtt": mqtt.received, "webhook": hook.received, "websocket": ws_got}
    print(f"alerts benchmark: db={args.db} sites={args.sites} alerts={args.alerts} per phase; cpus shared")
    try:
        paced = produce(settings, sites, args.alerts, args.rate, per_txn=10)
        wait_all(channels, args.alerts, 120)
        snapshot = {k: Received(ids=list(v.ids), first_at=dict(v.first_at)) for k, v in channels.items()}
        report(f"paced: {args.alerts} alerts at {args.rate:.0f}/s", snapshot, paced, event_of_alert(settings))
        burst = produce(settings, sites, args.alerts, 0.0, per_txn=1000)
        wait_all(channels, 2 * args.alerts, 300)
        report(f"burst: {args.alerts} alerts written at once", channels, burst, event_of_alert(settings))
    finally:
        stop.set()
        mqtt.close()
        server.should_exit = True
        time.sleep(1.0)
        hook.close()
        broker.stop()
        if schema:
            with psycopg.connect(
                make_url(PG_URL).set(drivername="postgresql").render_as_string(False), autocommit=True
            ) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
