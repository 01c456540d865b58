"""``brightkitchen demo``: the project's main job on embedded defaults (SQLite, local files)."""

from __future__ import annotations

import typer


def demo() -> None:
    """Render/validate the sample set and print its summary (later: analyze, store, serve)."""
    from vision.synth.samples import summarize_sample_set

    typer.echo(summarize_sample_set())


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
