"""``brightkitchen run --config sites.yaml``: the camera runtime (sources, health, detector, live view).

Events go to the JSON-lines file named by ``events_file`` in the config (default
``var/events.jsonl``) and, with ``--db``, also into the API's database (``BK_DATABASE_URL``,
media copied under the media root): camera ids in ``sites.yaml`` are the camera keys there.
Status: ``status_file`` and ``GET /status`` on the live-view server. SIGTERM or Ctrl-C stops
it cleanly: open events are closed and clips finalized.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer


def run(
    config: Path = typer.Option(..., "--config", "-c", help="sites.yaml: sites, cameras, detector, http"),
    check: bool = typer.Option(False, "--check", help="validate the config, print a summary and exit"),
    db: bool = typer.Option(False, "--db", help="also store events in the API database"),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING, ERROR"),
) -> None:
    """Run every camera of the config until SIGTERM."""
    from streams.config import ConfigError, load_config
    from streams.sources import redact

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if check:
        for site, cam in cfg.cameras():
            typer.echo(f"{site.id}/{cam.id}: {redact(cam.url)} detect_fps={cam.detect_fps}")
        typer.echo(f"ok: {len(cfg.cameras())} camera(s) in {len(cfg.sites)} site(s)")
        return
    from streams.runtime import Runtime
    from streams.sinks import FanoutSink, JsonlEventSink
    from vision.sink import EventSink

    sinks: list[EventSink] = [JsonlEventSink(cfg.events_file or Path("var/events.jsonl"))]
    if db:
        from api.ingest import DatabaseEventSink
        from api.settings import get_settings

        sinks.append(DatabaseEventSink.from_settings(get_settings()))
    try:
        Runtime(cfg, sink=FanoutSink(sinks)).run_forever()
    except (RuntimeError, OSError, ValueError) as exc:  # model, port, sink: say what, not a traceback
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    app.command("run")(run)
