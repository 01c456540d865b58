"""Review API under load: 1,000,000 events over 500 sites in PostgreSQL, 50 concurrent clients.

    .venv/bin/python benchmarks/api.py                       # 1M events, 500 sites, 50 clients
    .venv/bin/python benchmarks/api.py --events 100000 --seconds 10
    .venv/bin/python benchmarks/api.py --reuse               # skip loading when the schema is there

Loads a region tree (1 province, 5 cities, 25 districts, 100 streets), ``--sites`` sites, one
camera per site and ``--events`` events over 90 days (70 % pending; clip + snapshot metadata on
every 10th event) into its own PostgreSQL schema with COPY, then runs the real app under uvicorn
(``--workers`` processes) on loopback and drives it with ``--clients`` concurrent HTTP clients
(one asyncio process, keep-alive) for ``--seconds`` per scenario:

- queue:   a district regulator's review queue, ``status=pending`` + a severity or kind filter,
           50 per page, random page among the first 10 (count included);
- event:   one event with its media metadata and rectifications, as a city regulator;
- confirm: confirming a distinct pending event per request (state change + audit entry +
           alert outbox row in one transaction), as the city regulator.

Prints p50/p95/p99 latency (ms), throughput (requests/s) and errors per scenario, from one run,
then the same scenario with a single client (``name@1``): latency without queueing for the CPU.
The load generator shares the CPU with the server and PostgreSQL: on a small machine the numbers
are a floor. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.db import upgrade  # noqa: E402
from api.security import PasswordService  # noqa: E402
from api.settings import Settings  # noqa: E402
from vision.kinds import DEFAULT_SEVERITY, ViolationKind  # noqa: E402

PASSWORD = "benchmark password 1"
KINDS = list(ViolationKind)


def admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def schema_url(url: str, schema: str) -> str:
    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def region_rows() -> tuple[list[tuple[uuid.UUID, str, str, uuid.UUID | None, str]], list[uuid.UUID]]:
    """(id, name, level, parent, path) for 1 province → 5 cities → 25 districts → 100 streets."""
    rows: list[tuple[uuid.UUID, str, str, uuid.UUID | None, str]] = []
    prov = uuid.uuid4()
    rows.append((prov, "Province", "province", None, f"/{prov.hex}/"))
    streets: list[uuid.UUID] = []
    for c in range(5):
        city = uuid.uuid4()
        city_path = f"/{prov.hex}/{city.hex}/"
        rows.append((city, f"City {c}", "city", prov, city_path))
        for d in range(5):
            dist = uuid.uuid4()
            dist_path = f"{city_path}{dist.hex}/"
            rows.append((dist, f"District {c}.{d}", "district", city, dist_path))
            for s in range(4):
                street = uuid.uuid4()
                rows.append((street, f"Street {c}.{d}.{s}", "street", dist, f"{dist_path}{street.hex}/"))
                streets.append(street)
    return rows, streets


def event_rows(
    n: int, cameras: list[tuple[uuid.UUID, uuid.UUID]], now: datetime, rng: random.Random
) -> Iterator[tuple[object, ...]]:
    span_s = 90 * 86400
    for _ in range(n):
        cam, site = cameras[rng.randrange(len(cameras))]
        kind = KINDS[rng.randrange(len(KINDS))]
        started = now - timedelta(seconds=rng.randrange(span_s))
        roll = rng.random()
        status = "pending" if roll < 0.7 else "confirmed" if roll < 0.9 else "dismissed"
        yield (
            uuid.uuid4(),
            kind.value,
            DEFAULT_SEVERITY[kind].value,
            cam,
            site,
            rng.randrange(1, 500),
            started,
            started + timedelta(seconds=5),
            started + timedelta(seconds=8),
            round(rng.random(), 3),
            10.0,
            20.0,
            110.0,
            220.0,
            "kitchen-yolo11n@bench",
            "rules@bench",
            status,
            now,
        )


EVENT_COLUMNS = (
    "id, kind, severity, camera_id, site_id, track_id, started_at, updated_at, ended_at, confidence, "
    "x1, y1, x2, y2, model_version, rule_version, status, created_at"
)


def load(url: str, schema: str, n_sites: int, n_events: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with psycopg.connect(admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    settings = Settings(env="test", database_url=schema_url(url, schema))
    upgrade(settings)
    regions, streets = region_rows()
    pw = PasswordService(Settings(env="test", argon2_time_cost=1, argon2_memory_kib=1024)).hash(PASSWORD)
    t0 = time.perf_counter()
    with psycopg.connect(admin_dsn(url), options=f"-csearch_path={schema}") as conn, conn.cursor() as cur:
        with cur.copy("COPY regions (id, name, level, parent_id, path, created_at) FROM STDIN") as cp:
            for r in regions:
                cp.write_row((*r, now))
        sites = [(uuid.uuid4(), streets[i % len(streets)]) for i in range(n_sites)]
        with cur.copy(
            "COPY sites (id, name, kind, licence_no, address, region_id, work_start, work_end,"
            " public_display, created_at) FROM STDIN"
        ) as cp:
            kinds = ("school_canteen", "restaurant", "central_kitchen")
            for i, (sid, street) in enumerate(sites):
                cp.write_row(
                    (
                        sid,
                        f"Site {i}",
                        kinds[i % 3],
                        f"BENCH{i:06d}",
                        "addr",
                        street,
                        "06:00",
                        "20:00",
                        i % 2 == 0,
                        now,
                    )
                )
        cameras = [(uuid.uuid4(), sid) for sid, _ in sites]
        with cur.copy("COPY cameras (id, site_id, key, name, detect_url, created_at) FROM STDIN") as cp:
            for i, (cid, sid) in enumerate(cameras):
                cp.write_row((cid, sid, f"bench-{i}", f"cam {i}", "", now))
        district = regions[2][0]  # "District 0.0": 4 streets, about 20 sites
        city = regions[1][0]  # "City 0": about 100 sites
        with cur.copy(
            "COPY users (id, username, password_hash, role, region_id, site_id, is_active, created_at)"
            " FROM STDIN"
        ) as cp:
            cp.write_row((uuid.uuid4(), "bench-admin", pw, "admin", None, None, True, now))
            cp.write_row((uuid.uuid4(), "bench-district", pw, "regulator", district, None, True, now))
            cp.write_row((uuid.uuid4(), "bench-city", pw, "regulator", city, None, True, now))
        ids_with_media: list[uuid.UUID] = []
        with cur.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as cp:
            for i, row in enumerate(event_rows(n_events, cameras, now, rng)):
                cp.write_row(row)
                if i % 10 == 0:
                    ids_with_media.append(row[0])  # type: ignore[arg-type]
        with cur.copy(
            "COPY event_media (id, event_id, kind, rel_path, sha256, size_bytes, content_type, created_at)"
            " FROM STDIN"
        ) as cp:
            for eid in ids_with_media:
                cp.write_row(
                    (
                        uuid.uuid4(),
                        eid,
                        "clip",
                        f"events/x/{eid}/clip.mp4",
                        "0" * 64,
                        1_234_567,
                        "video/mp4",
                        now,
                    )
                )
                cp.write_row(
                    (
                        uuid.uuid4(),
                        eid,
                        "snapshot",
                        f"events/x/{eid}/snapshot.jpg",
                        "1" * 64,
                        45_678,
                        "image/jpeg",
                        now,
                    )
                )
        conn.commit()
    with psycopg.connect(admin_dsn(url), autocommit=True, options=f"-csearch_path={schema}") as conn:
        conn.execute("VACUUM ANALYZE")
    print(
        f"loaded {n_events} events, {len(ids_with_media) * 2} media rows, {n_sites} sites "
        f"in {time.perf_counter() - t0:.1f} s"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, schema: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "BK_ENV": "test",
        "BK_DATABASE_URL": schema_url(url, schema),
        "BK_DATA_DIR": str(ROOT / "var" / "bench"),
        "BK_ESCALATION_INTERVAL_S": "0",
        "BK_ALERTS_DISPATCHER": "off",
        "BK_LOG_LEVEL": "WARNING",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.main:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("uvicorn did not come up")


class Conn:
    """A minimal keep-alive HTTP/1.1 client: the load generator shares the CPU with the server,
    so it should spend as little of it as possible (httpx costs several times more per request)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next((int(x.split(":", 1)[1]) for x in lines if x.lower().startswith("content-length:")), 0)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


Request = Callable[[Conn], Awaitable[int]]


async def drive(clients: int, seconds: float, make: Request, base: str) -> tuple[list[float], int, float]:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        conn = Conn(host, int(port))
        try:
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                code = await make(conn)
                latencies.append((time.perf_counter() - t) * 1000)
                if code >= 400:
                    errors += 1
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - t0


def report(name: str, latencies: list[float], errors: int, elapsed: float) -> None:
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<8} n={len(latencies):>6}  p50={q[49]:7.1f} ms  p95={q[94]:7.1f} ms  p99={q[98]:7.1f} ms  "
        f"throughput={len(latencies) / elapsed:7.1f} req/s  errors={errors}"
    )


def token(base: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def ids_in_scope(
    url: str, schema: str, region_name: str, status: str | None, media: bool, limit: int
) -> list[str]:
    sql = (
        "SELECT e.id FROM events e JOIN sites s ON s.id = e.site_id JOIN regions r ON r.id = s.region_id"
        " WHERE r.path LIKE (SELECT path FROM regions WHERE name = %s) || '%%'"
        + (" AND e.status = %s" if status else "")
        + (" AND EXISTS (SELECT 1 FROM event_media m WHERE m.event_id = e.id)" if media else "")
        + " ORDER BY random() LIMIT %s"
    )
    params: tuple[object, ...] = (region_name, status, limit) if status else (region_name, limit)
    with psycopg.connect(admin_dsn(url), options=f"-csearch_path={schema}") as conn:
        return [str(r[0]) for r in conn.execute(sql, params)]  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--database-url",
        default=os.environ.get("BK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    ap.add_argument("--schema", default="bk_bench")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=500)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--reuse", action="store_true", help="keep the loaded schema from an earlier run")
    ap.add_argument("--drop", action="store_true", help="drop the schema at the end")
    args = ap.parse_args()

    if not args.reuse:
        load(args.database_url, args.schema, args.sites, args.events, args.seed)
    proc, base = start_server(args.database_url, args.schema, args.workers)
    try:
        district, city = token(base, "bench-district"), token(base, "bench-city")
        rng = random.Random(args.seed)
        filters = [{"severity": "red"}, {"severity": "orange"}, {"kind": "no_hat"}, {}]

        async def queue(c: Conn) -> int:
            params = {
                "status": "pending",
                "limit": 50,
                "offset": 50 * rng.randrange(10),
                **rng.choice(filters),
            }
            return await c.request("GET", f"/api/events?{urlencode(params)}", district)

        readable = ids_in_scope(args.database_url, args.schema, "City 0", None, True, 20_000)

        async def event(c: Conn) -> int:
            return await c.request("GET", f"/api/events/{rng.choice(readable)}", city)

        pending = ids_in_scope(args.database_url, args.schema, "City 0", "pending", False, 200_000)
        body = json.dumps({"decision": "confirm", "reason": "benchmark"}).encode()
        post = {**city, "Content-Type": "application/json"}

        async def confirm(c: Conn) -> int:
            return await c.request("POST", f"/api/events/{pending.pop()}/review", post, body)

        print(
            f"{args.clients} clients, {args.seconds:.0f} s per scenario, uvicorn workers={args.workers}, "
            f"{os.cpu_count()} CPUs shared by clients, server and PostgreSQL"
        )
        for name, make in (("queue", queue), ("event", event), ("confirm", confirm)):
            asyncio.run(drive(args.clients, 2.0, make, base))  # warm-up (connections, caches)
            report(name, *asyncio.run(drive(args.clients, args.seconds, make, base)))
            # The same requests one at a time: the server's own latency, without queueing for the CPU.
            report(f"{name}@1", *asyncio.run(drive(1, min(args.seconds, 5.0), make, base)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if args.drop:
            with psycopg.connect(admin_dsn(args.database_url), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE')


if __name__ == "__main__":
    main()
