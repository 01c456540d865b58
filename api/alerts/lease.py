"""One active dispatcher per database: a lease in the store we already have.

Why: the dispatcher assigns ``alert_id`` in the order it reads committed rows and keeps per-site
order; two at once would interleave. PostgreSQL: a session advisory lock, released by the server
when the holder's connection dies (SIGKILL included). SQLite: an exclusive ``flock`` on a file
beside the database, released by the kernel when the process dies. A second dispatcher waits.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)
ADVISORY_KEY = 0x424B_414C  # "BKAL"
# Advisory locks are per database, not per schema: the second key names the schema, so
# deployments (or test sessions) sharing one database in separate schemas do not block each other.
PG_KEYS = ":k, hashtext(current_schema())"


class DispatcherLease:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._conn: Any = None
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        if self._engine.dialect.name == "postgresql":
            conn = self._engine.connect()
            got = bool(
                conn.execute(text(f"SELECT pg_try_advisory_lock({PG_KEYS})"), {"k": ADVISORY_KEY}).scalar()
            )
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        database = self._engine.url.database or ""
        path = Path(f"{database}.dispatch.lock") if database not in ("", ":memory:") else None
        if path is None:
            return True  # an in-memory database lives in one process only
        handle = path.open("wb")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def acquire(self, stop: threading.Event, retry_s: float = 1.0) -> bool:
        """Block until the lease is ours (True) or ``stop`` is set (False)."""
        logged = False
        while not stop.is_set():
            if self.try_acquire():
                return True
            if not logged:
                log.info("another dispatcher holds the lease; standing by")
                logged = True
            stop.wait(retry_s)
        return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text(f"SELECT pg_advisory_unlock({PG_KEYS})"), {"k": ADVISORY_KEY})
                self._conn.close()
            except Exception:  # the connection may already be gone; the server drops the lock
                log.debug("advisory unlock failed", exc_info=True)
            self._conn = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
