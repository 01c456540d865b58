"""``brightkitchen synth``: the synthetic kitchen world (scenes, videos, datasets)."""

from __future__ import annotations

import typer

synth_app = typer.Typer(help="Render synthetic kitchen videos and datasets with exact ground truth.")


@synth_app.command("scenes")
def scenes() -> None:
    """List the scene names."""
    from vision.synth.scene import SCENE_KINDS

    for name in SCENE_KINDS:
        typer.echo(name)


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
