"""``brightkitchen dispatch``: the alert dispatcher as its own process.

By default the API process runs the dispatcher (``BK_ALERTS_DISPATCHER=inprocess``). Run it
alone when the API has several workers or replicas: set ``BK_ALERTS_DISPATCHER=external`` for
the API and start this once (a second copy waits on the lease and takes over if the first dies).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer


def dispatch() -> None:
    """Deliver the alert outbox to MQTT and webhooks until SIGTERM/SIGINT."""
    from api.alerts.service import build_dispatcher
    from api.db import make_engine, make_session_factory
    from api.settings import get_settings

    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings)
    dispatcher = build_dispatcher(settings, make_session_factory(engine))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    channels = ", ".join(c.value for c in dispatcher.sinks) or "none (WebSocket is served by the API)"
    typer.echo(f"dispatching alerts: {channels}")
    dispatcher.run(stop)
    engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("dispatch")(dispatch)
