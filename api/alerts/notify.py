"""Wake the dispatcher the moment an alert commits (PostgreSQL ``LISTEN``/``NOTIFY``).

``enqueue_alert`` issues ``NOTIFY`` inside the writer's transaction; PostgreSQL delivers it only
on commit, so a wake-up never precedes the row. Polling stays as the safety net (and is all
SQLite gets), so a lost notification costs at most one poll interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from api.alerts.outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class NotifyListener:
    def __init__(self, engine: Engine, on_notify: Callable[[], None]):
        self._engine = engine
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._engine.dialect.name != "postgresql":
            return
        self._thread = threading.Thread(target=self._run, name="alerts-listen", daemon=True)
        self._thread.start()

    def _conninfo(self) -> str:
        url = self._engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._on_notify()
            except Exception:  # server restart: reconnect after a pause; polling covers the gap
                log.warning("alerts LISTEN connection lost; retrying", exc_info=True)
                self._stop.wait(2.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
