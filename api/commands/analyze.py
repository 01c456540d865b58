"""``brightkitchen analyze`` and ``brightkitchen eval``: the vision pipeline on video files.

``analyze`` writes ``DIR/<video stem>/events.jsonl`` with clips and snapshots beside it;
``eval`` runs the same on clips with ground truth and prints event-level precision, recall, F1,
delay, duplicates and false alarms per camera-hour (``docs/evaluation.md``). ``--oracle``
replaces the model by the ground-truth boxes, to test tracking and rules alone.

A clip's ground truth (``NAME.json`` beside ``NAME.mp4``), when present, configures the camera:
its id, zones, working hours and the wall time of its first frame.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from vision.detector import Detector
    from vision.evaluate import EvalReport
    from vision.pipeline import CameraSetup, FileResult


def _fail(msg: str) -> typer.Exit:
    one_line = "; ".join(part.strip() for part in str(msg).splitlines() if part.strip())
    typer.echo(f"error: {one_line}", err=True)
    return typer.Exit(code=2)


def load_truth(video: Path) -> dict[str, Any] | None:
    path = video.with_suffix(".json")
    if not path.exists():
        return None
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise _fail(f"{path}: unreadable ground truth ({e})") from e
    return doc


def camera_setup(
    video: Path, out_dir: Path, doc: dict[str, Any] | None, detect_fps: float = 5.0
) -> CameraSetup:
    from vision.evaluate import clip_rules
    from vision.pipeline import CameraSetup

    media = out_dir / video.stem
    if doc is None:
        return CameraSetup(camera_id=video.stem, media_dir=media, max_detect_fps=detect_fps or None)
    cam = doc.get("camera", {})
    recorded = cam.get("recorded_at")
    return CameraSetup(
        camera_id=str(cam.get("camera_id", video.stem)),
        media_dir=media,
        rules=clip_rules(doc),
        recorded_at=datetime.fromisoformat(recorded) if recorded else None,
        fps=float(doc.get("video", {}).get("fps", 15.0)),
        max_detect_fps=detect_fps or None,
    )


THREADS_HELP = (
    "inference threads (default: all cores, the fastest for one file; 1 costs ~20 % less CPU, "
    "for many files analysed in parallel)"
)


class DetectorSource:
    """The detector for each video: one model for all, or the oracle of each clip."""

    def __init__(self, profile: Path | None, oracle: bool, threads: int | None = None) -> None:
        self.oracle = oracle
        self._model: Detector | None = None
        if oracle:
            return
        if profile is None:  # the deployment's model: BK_PROFILE, by default the shipped two-stage one
            from api.settings import get_settings

            profile = get_settings().profile
        if not profile.exists():
            raise _fail(f"{profile}: model profile not found")
        try:
            from vision.refine import load_detector  # type: ignore[import-not-found,unused-ignore]
        except ImportError as e:
            raise _fail(f"no detector backend available ({e}); try --oracle") from e
        try:
            self._model, _ = load_detector(profile, threads=threads)
        except (OSError, ValueError) as e:
            raise _fail(f"{profile}: {e}") from e

    def for_video(self, video: Path) -> Detector:
        if self._model is not None:
            return self._model
        if not video.with_suffix(".json").exists():
            raise ValueError(f"{video}: --oracle needs the ground truth {video.with_suffix('.json').name}")
        from vision.synth.oracle import GroundTruthDetector

        return GroundTruthDetector(video)


def _run_one(
    video: Path, source: DetectorSource, out_dir: Path, detect_fps: float
) -> tuple[FileResult | None, str | None]:
    """Run one file; return its result and the one-line error, if any (partial result kept)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from vision.decode import VideoError, VideoInfo, probe
    from vision.pipeline import FileResult, run_file
    from vision.sinks import JsonlSink

    try:
        probe(video)  # a bad file is named as such before any detector reads it
        doc = load_truth(video)
        setup = camera_setup(video, out_dir, doc, detect_fps)
        detector = source.for_video(video)
    except (ValueError, VideoError) as e:
        return None, str(e)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
    with Progress(*columns, TimeRemainingColumn(), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(video.name, total=None)

        def tick(frames: int, info: VideoInfo) -> None:
            bar.update(task, completed=frames, total=info.frames or None)

        try:
            return run_file(video, detector, JsonlSink(out_dir / video.stem), setup, progress=tick), None
        except VideoError as e:
            partial = e.result if isinstance(e.result, FileResult) else None
            return partial, str(e)


def _events_table(results: list[FileResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="violation events")
    for col in ("video", "kind", "severity", "start_s", "end_s", "track", "conf", "clip"):
        table.add_column(col)
    for r in results:
        for e in sorted(r.events, key=lambda e: e.started_s):
            clip = Path(e.clip_path).name if e.clip_path else "-"
            end = f"{e.ended_s:.1f}" if e.ended_s is not None else "-"
            row = (r.path.name, e.kind.value, e.severity.value, f"{e.started_s:.1f}", end)
            table.add_row(*row, str(e.track_id), f"{e.confidence:.2f}", clip)
    Console().print(table)


def analyze(
    videos: list[Path] = typer.Argument(..., help="video files to analyze"),  # noqa: B008
    profile: Path | None = typer.Option(
        None, help="model profile (default: BK_PROFILE, models/kitchen-yolo11n-2stage.yaml)"
    ),  # noqa: B008
    out: Path = typer.Option(Path("out"), help="output folder: OUT/<video stem>/events.jsonl + media"),  # noqa: B008
    oracle: bool = typer.Option(False, help="use the ground-truth boxes instead of a model"),
    detect_fps: float = typer.Option(5.0, help="most detector runs per second per camera (0: no cap)"),
    threads: int | None = typer.Option(None, min=1, help=THREADS_HELP),
) -> None:
    """Find violation events in video files; write events.jsonl, clips and snapshots."""
    import av.logging

    av.logging.set_level(None)
    source = DetectorSource(profile, oracle, threads)
    results, errors = [], []
    for video in videos:
        result, error = _run_one(video, source, out, detect_fps)
        if result is not None:
            results.append(result)
            for media in result.media_errors:  # events kept, their clip or snapshot missing
                errors.append(media)
                typer.echo(f"error: {video}: {media}", err=True)
        if error:
            errors.append(error)
            typer.echo(f"error: {error}", err=True)
    _events_table(results)
    typer.echo(f"{sum(len(r.events) for r in results)} events in {len(results)} file(s); written under {out}")
    if errors:
        raise typer.Exit(code=1)


def eval_report(results: list[FileResult], docs: dict[Path, dict[str, Any]]) -> EvalReport:
    from vision.evaluate import PredEvent, evaluate_clip, summarize

    clips = []
    for r in results:
        doc = docs[r.path]
        preds = [PredEvent.from_event(e) for e in r.events]
        clips.append(evaluate_clip(r.path.stem, doc, preds, hard_negative=r.path.stem.startswith("clean_")))
    return summarize(clips)


def print_report(report: EvalReport, results: list[FileResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    from vision.evaluate import REPORT_HEADER, report_rows

    table = Table(title="event-level evaluation")
    for col in REPORT_HEADER:
        table.add_column(col, justify="left" if col == "kind" else "right", no_wrap=True)
    for row in report_rows(report):
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(
        f"false alarms per camera-hour: {report.false_alarms_per_hour:.1f} ({report.hours * 60:.1f} min)"
    )
    neg = report.negative_false_alarms_per_hour
    if neg is not None:
        console.print(f"false alarms per camera-hour on hard-negative clips: {neg:.1f}")
    frames = sum(r.frames for r in results)
    sent = sum(r.frames * r.detect_fraction for r in results)
    console.print(f"frames sent to the detector: {sent / frames:.0%} of {frames}" if frames else "no frames")


def evaluate(
    clips: list[Path] = typer.Argument(None, help="clips with ground truth (default: sample_videos/*.mp4)"),  # noqa: B008
    profile: Path | None = typer.Option(
        None, help="model profile (default: BK_PROFILE, models/kitchen-yolo11n-2stage.yaml)"
    ),  # noqa: B008
    oracle: bool = typer.Option(False, help="use the ground-truth boxes instead of a model"),
    detect_fps: float = typer.Option(5.0, help="most detector runs per second per camera (0: no cap)"),
    out: Path = typer.Option(Path("out/eval"), help="where events, clips and snapshots go"),  # noqa: B008
    json_out: Path | None = typer.Option(None, "--json", help="also write the metrics as JSON"),  # noqa: B008
    threads: int | None = typer.Option(None, min=1, help=THREADS_HELP),
    details: bool = typer.Option(
        False, "--details", help="also list each miss, false alarm, duplicate and late hit, one line each"
    ),
) -> None:
    """Run the pipeline on clips with ground truth and print event-level metrics."""
    import av.logging

    av.logging.set_level(None)
    if not clips:
        from api.settings import get_settings

        clips = sorted(get_settings().sample_dir.glob("*.mp4"))
    source = DetectorSource(profile, oracle, threads)
    results: list[FileResult] = []
    docs: dict[Path, dict[str, Any]] = {}
    failed = False
    for clip in clips:
        doc = load_truth(clip)
        if doc is None:
            typer.echo(f"error: {clip}: no ground truth {clip.with_suffix('.json').name} beside it", err=True)
            failed = True
            continue
        result, error = _run_one(clip, source, out, detect_fps)
        if error:
            typer.echo(f"error: {error}", err=True)
            failed = True
        elif result is not None:
            results.append(result)
            docs[clip] = doc
    report = eval_report(results, docs)
    print_report(report, results)
    if details:
        print_details(report)
    if json_out is not None:
        json_out.write_text(json.dumps(report_json(report), indent=2) + "\n", encoding="utf-8")
    if failed:
        raise typer.Exit(code=1)


def print_details(report: EvalReport) -> None:
    """What went wrong, incident by incident (the hits within their delay aim are left out)."""
    wrong = [o for o in report.overall.outcomes if o.verdict in ("miss", "false", "duplicate") or o.late]
    typer.echo(f"{len(wrong)} incident(s) to look at (misses, false alarms, duplicates, late hits):")
    for o in sorted(wrong, key=lambda o: (o.clip, o.kind.value, o.start_s)):
        typer.echo(f"  {o.describe()}")


def report_json(report: EvalReport) -> dict[str, Any]:
    def counts(c: Any) -> dict[str, Any]:
        return {
            "truths": c.truths,
            "preds": c.preds,
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
            "duplicates": c.duplicates,
            "precision": round(c.precision, 4),
            "recall": round(c.recall, 4),
            "f1": round(c.f1, 4),
            "mean_delay_s": round(c.mean_delay_s, 3) if c.mean_delay_s is not None else None,
        }

    return {
        "clips": [c.name for c in report.clips],
        "hours": report.hours,
        "per_kind": {k.value: counts(c) for k, c in report.per_kind.items()},
        "overall": counts(report.overall),
        "false_alarms_per_hour": report.false_alarms_per_hour,
        "hard_negative_false_alarms_per_hour": report.negative_false_alarms_per_hour,
        "outcomes": [o.as_json() for o in report.overall.outcomes],
    }


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("eval")(evaluate)
