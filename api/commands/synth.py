"""``brightkitchen synth``: the synthetic kitchen world (scenes, videos, datasets, the sample set)."""

from __future__ import annotations

from pathlib import Path

import typer

synth_app = typer.Typer(
    help="Render synthetic kitchen videos and datasets with exact ground truth.", no_args_is_help=True
)


@synth_app.command("scenes")
def scenes() -> None:
    """List the scene names."""
    from vision.synth.scene import SCENE_KINDS

    for name in SCENE_KINDS:
        typer.echo(name)


@synth_app.command("video")
def video(
    out: Path = typer.Option(..., "--out", help="output .mp4; the ground truth goes beside it as .json"),
    scene: str = typer.Option("canteen", "--scene", help="scene name (see `synth scenes`)"),
    seed: int = typer.Option(0, "--seed"),
    duration_s: float = typer.Option(20.0, "--duration", min=1.0, max=600.0),
    fps: float = typer.Option(15.0, "--fps", min=1.0, max=60.0),
    width: int = typer.Option(640, "--width", min=64, max=3840),
    height: int = typer.Option(360, "--height", min=64, max=2160),
    dense: bool = typer.Option(False, "--dense", help="more violations per clip"),
) -> None:
    """Render one clip with a random (seeded) cast, and its ground truth."""
    from rich.progress import Progress

    from vision.synth.generate import build_scenario, random_spec
    from vision.synth.scene import SCENE_KINDS
    from vision.synth.video import render_video

    if scene not in SCENE_KINDS:
        raise typer.BadParameter(
            f"unknown scene {scene!r}; choose one of {', '.join(SCENE_KINDS)}", param_hint="--scene"
        )
    if out.suffix.lower() != ".mp4":
        raise typer.BadParameter("the output must be an .mp4 file", param_hint="--out")
    spec = random_spec(seed, scene=scene, duration_s=duration_s, dense=dense)
    spec.fps, spec.width, spec.height = fps, width, height
    with Progress(transient=True) as bar:
        task = bar.add_task(f"rendering {out.name}", total=int(duration_s * fps))
        doc = render_video(build_scenario(spec), out, progress=lambda i, n: bar.update(task, completed=i))
    events = doc["events"]
    typer.echo(
        f"wrote {out} and {out.with_suffix('.json')}: {doc['video']['frames']} frames, {len(events)} events"
    )
    for e in events:
        typer.echo(f"  {e['kind']:<12} track {e['track_id']:<3} {e['start_s']:6.2f}s → {e['end_s']:6.2f}s")


@synth_app.command("dataset")
def dataset(
    out: Path = typer.Option(..., "--out", help="dataset folder (YOLO layout + data.yaml)"),
    images: int = typer.Option(2000, "--images", min=12, max=1_000_000),
    workers: int = typer.Option(2, "--workers", min=1, max=64),
) -> None:
    """Write a YOLO detection dataset, split train/val/test by scene seed."""
    from rich.progress import Progress

    from vision.synth.dataset import write_dataset

    with Progress(transient=True) as bar:
        task = bar.add_task("rendering dataset", total=images)
        yml = write_dataset(
            out, images, workers=workers, progress=lambda i, n: bar.update(task, completed=i, total=n)
        )
    typer.echo(f"wrote {yml}")


@synth_app.command("samples")
def samples(
    out: Path = typer.Option(None, "--out", help="folder (default: the repo's sample_videos/)"),
    only: list[str] = typer.Option(None, "--only", help="render only these sample names"),
) -> None:
    """Render the sample set and check each clip holds the violations it promises."""
    from vision.synth.samples import SAMPLE_DIR, build_samples, summarize_sample_set

    folder = out or SAMPLE_DIR
    problems = build_samples(
        folder, list(only) if only else None, progress=lambda n: typer.echo(f"rendered {n}")
    )
    typer.echo(summarize_sample_set(folder))
    if problems:
        for p in problems:
            typer.echo(f"error: {p}", err=True)
        raise typer.Exit(1)


@synth_app.command("heldout")
def heldout(
    out: Path = typer.Option(..., "--out", help="folder for the held-out clips and their ground truth"),
    clips: int = typer.Option(10, "--clips", min=1, max=1000),
    first: int = typer.Option(
        0, "--first", min=0, max=99_000, help="index of the first clip (seed 900,000 + it)"
    ),
    duration_s: float = typer.Option(20.0, "--duration", min=5.0, max=120.0),
) -> None:
    """Render evaluation clips from seeds never used for training, tuning or the sample set."""
    from vision.synth.samples import build_heldout

    for path in build_heldout(out, clips, duration_s, first=first):
        typer.echo(f"wrote {path}")


@synth_app.command("tuning")
def tuning(
    out: Path = typer.Option(..., "--out", help="folder for the tuning clips and their ground truth"),
    clips: int = typer.Option(20, "--clips", min=0, max=100),
    forced: int = typer.Option(12, "--forced", min=0, max=100, help="clips with a smoker and a phone user"),
    first: int = typer.Option(
        0, "--first", min=0, max=99, help="index of the first random clip (seed 800,000 + it)"
    ),
    duration_s: float = typer.Option(20.0, "--duration", min=5.0, max=120.0),
) -> None:
    """Render the rule-tuning clips (seeds 800,000+): tune here, measure on `synth heldout`."""
    from vision.synth.samples import build_tuning

    for path in build_tuning(out, clips, forced, duration_s, first=first):
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
