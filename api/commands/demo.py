"""``brightkitchen demo``: the whole pipeline on the sample set with embedded defaults.

Steps, each printed: validate the sample set; create the SQLite schema; seed regions, sites, a
camera per sample clip and one user per role (credentials printed); run the detector + rules on
every sample clip, writing events, clips and snapshots to files and the database; print the
event-level evaluation against ground truth; then serve the API at http://127.0.0.1:8000
(``--no-serve`` stops after the evaluation). No PostgreSQL, broker or other server is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def _analyze_into_database(
    profile: Path | None, oracle: bool, out_dir: Path
) -> tuple[list[Any], dict[Path, Any]]:
    from api.commands.analyze import DetectorSource, camera_setup, load_truth
    from api.ingest import DatabaseEventSink
    from api.settings import get_settings
    from vision.pipeline import run_file
    from vision.sink import TeeSink
    from vision.sinks import JsonlSink

    settings = get_settings()
    source = DetectorSource(profile, oracle)
    db_sink = DatabaseEventSink.from_settings(settings)
    results, docs = [], {}
    try:
        for video in sorted(settings.sample_dir.glob("*.mp4")):
            doc = load_truth(video)
            if doc is not None:
                docs[video] = doc
            sink = TeeSink(JsonlSink(out_dir / video.stem), _KeepOpen(db_sink))
            result = run_file(video, source.for_video(video), sink, camera_setup(video, out_dir, doc))
            typer.echo(f"  {video.name:<32} {len(result.events):>2} events, {result.frames} frames")
            results.append(result)
    finally:
        db_sink.close()
    return results, docs


class _KeepOpen:
    """Lets one database sink serve many files: per-file ``close`` does not dispose the engine."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def emit(self, event: Any) -> None:
        self.inner.emit(event)

    def close(self) -> None:
        pass


def demo(
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the API when done")] = True,
    profile: Annotated[Path | None, typer.Option(help="model profile (default: BK_PROFILE)")] = None,
    oracle: Annotated[bool, typer.Option(help="use the ground truth instead of the model")] = False,
) -> None:
    """Run the whole pipeline on the sample videos into SQLite, print the evaluation, serve the API."""
    from api.commands.analyze import eval_report, print_report
    from api.commands.server import db_upgrade, seed_demo
    from api.commands.server import serve as serve_api
    from api.settings import get_settings
    from vision.synth.samples import summarize_sample_set

    settings = get_settings()
    typer.echo("== 1. sample set")
    typer.echo(summarize_sample_set(settings.sample_dir))
    typer.echo(f"== 2. database {settings.sqlalchemy_url}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db_upgrade()
    typer.echo("== 3. demo world")
    seed_demo()
    prof = None if oracle else (profile or settings.profile)
    typer.echo(f"== 4. analyze the sample set with {'the ground-truth oracle' if oracle else prof}")
    results, docs = _analyze_into_database(prof, oracle, settings.data_dir / "demo-events")
    typer.echo("== 5. event-level evaluation against ground truth")
    print_report(eval_report(results, docs), results)
    if serve:
        typer.echo(f"== 6. serving the API at http://{settings.host}:{settings.port} (Ctrl-C to stop)")
        serve_api(host=None, port=None, workers=1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
