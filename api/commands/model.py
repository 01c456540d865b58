"""``brightkitchen train``, ``eval-model`` and ``quantize``: make a detector, measure it, shrink it.

``train`` wraps ultralytics training (``vision.train``): with no ``--data`` it first renders the
synthetic dataset. ``eval-model`` runs ultralytics' validator on a held-out split (by default the
synthetic test split of the shipped recipe, rendered here from the same seeds) and prints mAP50
overall and per class, then counts false positives on the sample set's clean clips.
``quantize`` writes an INT8 copy of a profile's OpenVINO model and its profile (``vision.quantize``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from vision.profile import Backend, Profile

REPO_ROOT = Path(__file__).resolve().parents[2]


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(code=2)


def train(
    data: Path | None = typer.Option(None, "--data", help="dataset yaml; omitted: render one"),
    model: str = typer.Option("yolo11n.yaml", "--model", help="architecture yaml (from scratch) or our .pt"),
    imgsz: int = typer.Option(640, "--imgsz", min=64, max=2048),
    epochs: int = typer.Option(60, "--epochs", min=1, max=10_000),
    batch: int = typer.Option(16, "--batch", min=1, max=1024),
    time_h: float | None = typer.Option(None, "--time-h", min=0.001, help="stop after this many hours"),
    device: str = typer.Option("cpu", "--device", help="cpu, 0 (first GPU), ..."),
    workers: int = typer.Option(2, "--workers", min=0, max=64, help="data loader and rendering processes"),
    out: Path = typer.Option(Path("runs/train"), "--out", help="runs folder"),
    name: str = typer.Option("kitchen", "--name", help="run name: weights in OUT/NAME/weights"),
    resume: bool = typer.Option(False, "--resume", help="continue OUT/NAME from its last.pt"),
    images: int = typer.Option(4000, "--images", min=12, help="synthetic images to render (no --data)"),
    dataset_dir: Path = typer.Option(Path("var/datasets"), "--dataset-dir", help="where to render"),
    stage: str = typer.Option(
        "frames", "--stage", help="frames: the full-frame detector; crops: the person-crop second stage"
    ),
    scenes: int = typer.Option(700, "--scenes", min=2, help="synthetic scenes for --stage crops (no --data)"),
    lr0: float | None = typer.Option(
        None, "--lr0", min=1e-6, max=1.0, help="AdamW learning rate (fine-tuning)"
    ),
    warmup_epochs: float = typer.Option(3.0, "--warmup-epochs", min=0.0),
    threads: int | None = typer.Option(None, "--threads", min=1, help="torch threads (default: every core)"),
    cache_ram: bool = typer.Option(False, "--cache-ram", help="keep decoded images in RAM"),
) -> None:
    """Train a YOLO detector from its yaml (never downloaded weights) or fine-tune our .pt; writes
    weights, metrics and a model card draft into OUT/NAME.

    ``--stage crops`` trains the second stage (``vision.refine``) on person crops: with no
    ``--data`` it renders smoker/phone-rich scenes and crops every person, plus the held-out test
    split cropped the same way. The shipped crop model came from
    ``brightkitchen train --stage crops --model models/kitchen-yolo11n.pt --imgsz 224 --lr0 0.0005
    --warmup-epochs 0 --cache-ram --time-h 1.4``, then ``--stage crops --scenes 900 --model`` (that
    result) ``--imgsz 320 --epochs 1 --lr0 0.0003 --warmup-epochs 0 --cache-ram --time-h 1.2``,
    then 18 epochs at 320 px on 4,000 scenes on a GPU (``scripts/train_gpu.sh crops 4000 8``;
    models/kitchen-yolo11n-crops.md)."""
    from vision.train import train as run_training
    from vision.train import write_card_draft

    if resume and not (out / name / "weights" / "last.pt").exists():
        raise _fail(f"--resume: {out / name / 'weights' / 'last.pt'} does not exist")
    if stage not in ("frames", "crops"):
        raise _fail(f"--stage {stage}: expected frames or crops")
    if data is None and not resume and stage == "crops":
        data = _render_crops(dataset_dir / f"crops-{scenes}", scenes, max(1, workers), dataset_dir)
    elif data is None and not resume:
        data = _render_synthetic(dataset_dir / f"synth-{images}", images, max(1, workers))
    elif data is not None and not data.exists():
        raise _fail(f"--data {data}: not found")
    t0 = time.time()
    res = run_training(
        data or Path(), model, imgsz=imgsz, epochs=epochs, batch=batch, time_h=time_h, device=device,
        workers=workers, out_dir=out, name=name, resume=resume, lr0=lr0, warmup_epochs=warmup_epochs,
        cache="ram" if cache_ram else False, aug=stage, threads=threads,
    )  # fmt: skip
    command = (
        f"brightkitchen train --name {name} --resume" if resume
        else f"brightkitchen train --data {data} --model {model} --imgsz {imgsz} --epochs {epochs} "
        f"--batch {batch} --device {device} --stage {stage}" + (f" --time-h {time_h}" if time_h else "")
        + (f" --lr0 {lr0}" if lr0 else "") + f" --warmup-epochs {warmup_epochs}"
    )  # fmt: skip
    card = write_card_draft(res, command=command, data=data)
    typer.echo(f"trained {res.epochs_done} epochs in {(time.time() - t0) / 60:.1f} min")
    for k, v in res.metrics.items():
        typer.echo(f"  {k}: {v:.4f}")
    typer.echo(f"weights: {res.weights}\nmetrics: {res.results_csv}\nmodel card draft: {card}")


def _render_synthetic(out: Path, images: int, workers: int) -> Path:
    from rich.progress import Progress

    from vision.synth.dataset import write_dataset

    if (out / "data.yaml").exists():
        typer.echo(f"using the synthetic dataset already in {out}")
        return out / "data.yaml"
    with Progress(transient=True) as bar:
        task = bar.add_task("rendering the synthetic dataset", total=images)
        yml = write_dataset(
            out, images, workers=workers, progress=lambda i, n: bar.update(task, completed=i, total=n)
        )
    typer.echo(f"rendered {images} images into {out}")
    return yml


def _render_crops(out: Path, scenes: int, workers: int, dataset_dir: Path) -> Path:
    from rich.progress import Progress

    from vision.model_eval import render_test_split
    from vision.synth.dataset import write_crop_dataset

    if (out / "data.yaml").exists():
        typer.echo(f"using the crop dataset already in {out}")
        return out / "data.yaml"
    test = render_test_split(dataset_dir / "kitchen-test", workers=workers).parent
    with Progress(transient=True) as bar:
        task = bar.add_task("rendering person crops", total=scenes)
        yml = write_crop_dataset(
            out,
            scenes,
            workers=workers,
            test_from=test,
            progress=lambda i, n: bar.update(task, completed=i, total=n),
        )
    typer.echo(f"rendered crops of {scenes} scenes into {out}")
    return yml


def crop_dataset(
    data: Path = typer.Argument(..., help="a YOLO detection dataset yaml (full frames, class 0 = person)"),
    out: Path = typer.Option(..., "--out", help="folder for the person-crop dataset"),
    person_class: int = typer.Option(0, "--person-class", min=0, help="class id of the person"),
) -> None:
    """Turn a full-frame YOLO dataset (e.g. your own labelled footage) into person crops for the
    second stage: one crop per labelled person, with the runtime's margins (vision.crops)."""
    import yaml

    from vision.crops import crop_split, split_folder

    if not data.is_file():
        raise _fail(f"{data}: dataset yaml not found")
    doc = yaml.safe_load(data.read_text())
    new: dict[str, object] = {"path": str(out.resolve()), "names": doc["names"]}
    for split in ("train", "val", "test"):
        if split not in doc:
            continue
        try:
            images = split_folder(data, split)
        except ValueError as e:
            raise _fail(str(e)) from e
        labels = Path(str(images).replace("/images", "/labels", 1))
        n = crop_split(
            images, labels, out / "images" / split, out / "labels" / split, person_class=person_class
        )
        typer.echo(f"{split}: {n} person crops")
        new[split] = f"images/{split}"
    (out / "data.yaml").write_text(yaml.safe_dump(new, sort_keys=False))
    typer.echo(f"wrote {out / 'data.yaml'}")


def eval_model(
    profile: Path = typer.Option(REPO_ROOT / "models" / "kitchen-yolo11n.yaml", "--profile"),
    data: Path | None = typer.Option(None, "--data", help="dataset yaml; omitted: the synthetic test split"),
    split: str = typer.Option("test", "--split"),
    backend: str = typer.Option(
        "pytorch",
        "--backend",
        help="pytorch|onnx: ultralytics' validator on those weights; openvino: our runtime "
        "(vision.yolo at the profile's input size, e.g. an INT8 profile), same matching rule",
    ),
    imgsz: int = typer.Option(640, "--imgsz", min=64, max=2048),
    cache: Path = typer.Option(Path("var/datasets/kitchen-test"), "--cache", help="where the split renders"),
    clips: list[Path] = typer.Option(  # noqa: B008 - typer reads defaults at import
        [], "--clip", help="hard-negative clips (default: sample_videos/clean_*.mp4)"
    ),
    fp: bool = typer.Option(True, "--fp/--no-fp", help="count false positives on the clean clips"),
    run_map: bool = typer.Option(True, "--map/--no-map", help="run the validator (mAP)"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the numbers here"),
    suggest: bool = typer.Option(
        False, "--suggest-thresholds", help="also print F1-best per-class thresholds on the val split"
    ),
) -> None:
    """mAP50 overall and per class on a held-out split (ultralytics' validator), and false
    positives per 100 frames on hard-negative clips."""
    from vision.model_eval import count_false_positives
    from vision.profile import Backend, ProfileError
    from vision.refine import load_detector

    try:
        detector, prof = load_detector(profile)
        weights = prof.weights_path(Backend(backend))
    except (ProfileError, ValueError) as e:
        raise _fail(str(e)) from e
    report: dict[str, object] = {}
    if run_map and Backend(backend) is Backend.OPENVINO:
        typer.echo(f"{prof.model_version} ({weights.name}, our OpenVINO runtime):")
        report.update(_runtime_map(profile, prof, data, split, cache, Backend.OPENVINO))
    elif run_map:
        report.update(_map(prof, weights, data, split, imgsz, cache))
        if prof.refine is not None:
            typer.echo(
                f"two-stage ({prof.refine.profile} on each person for {', '.join(prof.refine.classes)}):"
            )
            report["two_stage"] = _runtime_map(profile, prof, data, split, cache)
    clip_paths = clips or sorted((REPO_ROOT / "sample_videos").glob("clean_*.mp4"))
    if fp and clip_paths:
        f = count_false_positives(detector, clip_paths)
        typer.echo(f"false positives on {len(clip_paths)} clean clips, {f.frames} frames ({prof.backend}):")
        for cls, k in f.per_class.items():
            typer.echo(f"  {cls:<16} {k:4d} boxes   {f.per_100_frames(cls):.2f} per 100 frames")
        report["hard_negative_fp_per_100_frames"] = {c: f.per_100_frames(c) for c in f.per_class}
    if suggest:
        report["suggested_confidence"] = _suggest(prof, cache.parent / "kitchen-val")
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))


def _map(
    prof: Profile, weights: Path, data: Path | None, split: str, imgsz: int, cache: Path
) -> dict[str, object]:
    from vision.model_eval import render_test_split, validate

    if data is None:
        typer.echo(f"rendering the held-out synthetic test split into {cache} (cached)")
        data = render_test_split(cache)
    elif not data.exists():
        raise _fail(f"--data {data}: not found")
    m = validate(weights, data, split=split, imgsz=imgsz)
    typer.echo(f"{prof.model_version} ({weights.name}) on {data} [{split}]: {m.images} images")
    typer.echo(f"mAP50 {m.map50:.3f}   mAP50-95 {m.map50_95:.3f}")
    for cls in prof.class_names:
        n = m.per_class_instances.get(cls, 0)
        typer.echo(f"  {cls:<16} mAP50 {m.per_class_map50.get(cls, float('nan')):.3f}   ({n} boxes)")
    return {"map50": m.map50, "map50_95": m.map50_95, "per_class": m.per_class_map50}


def _runtime_map(
    path: Path,
    prof: Profile,
    data: Path | None,
    split: str,
    cache: Path,
    backend: Backend | None = None,
) -> dict[str, object]:
    """mAP of our own detector (two-stage when the profile has ``refine``) on the same split."""
    from vision.crops import split_folder
    from vision.model_eval import detector_map, render_test_split
    from vision.refine import load_detector

    images = split_folder(data or render_test_split(cache), split)
    det, _ = load_detector(path, backend=backend, min_confidence=0.001)
    m = detector_map(det, images)
    typer.echo(f"mAP50 {m.map50:.3f}   mAP50-95 {m.map50_95:.3f}   ({m.images} images)")
    for cls in prof.class_names:
        n = m.per_class_instances.get(cls, 0)
        typer.echo(f"  {cls:<16} mAP50 {m.per_class_map50.get(cls, float('nan')):.3f}   ({n} boxes)")
    return {"map50": m.map50, "map50_95": m.map50_95, "per_class": m.per_class_map50}


def _suggest(prof: Profile, cache: Path) -> dict[str, float]:
    """F1-best thresholds on the recipe's val split (never the test split that is reported)."""
    from vision.model_eval import render_test_split, suggest_thresholds
    from vision.yolo import YoloDetector

    typer.echo(f"rendering the synthetic val split into {cache} (cached)")
    yml = render_test_split(cache, split="val")
    low = YoloDetector(prof.with_confidence(0.05))
    best = suggest_thresholds(low, yml.parent / "images" / "val")
    typer.echo("suggested per-class confidence (F1-best on val):")
    for cls, (thr, f1) in best.items():
        typer.echo(f"  {cls}: {thr:.2f}   # F1 {f1:.3f}")
    return {c: t for c, (t, _) in best.items()}


def quantize(
    profile: Path = typer.Option(REPO_ROOT / "models" / "kitchen-yolo11n.yaml", "--profile"),
    data: Path | None = typer.Option(
        None, "--data", help="dataset yaml whose val split calibrates; omitted: the synthetic val split"
    ),
    images: int = typer.Option(300, "--images", min=1, max=100_000, help="calibration images"),
    out: Path | None = typer.Option(None, "--out", help="default: MODELS/<name>_int8_openvino_model"),
    profile_out: Path | None = typer.Option(
        None, "--profile-out", help="default: <profile>-int8.yaml beside the profile (kept if it exists)"
    ),
    preset: str = typer.Option("mixed", "--preset", help="NNCF preset: mixed or performance"),
    cache: Path = typer.Option(
        Path("var/datasets/kitchen-val"), "--cache", help="where the val split renders"
    ),
) -> None:
    """INT8 post-training quantization (NNCF) of the profile's OpenVINO model, calibrated on the val
    split (never the test split) with the runtime's own preprocessing; writes the INT8 IR (dynamic
    batch, as the FP32 one) and a profile that points at it. Measure it before shipping:
    ``eval-model --profile <profile>-int8.yaml --backend openvino``."""
    from vision.crops import split_folder
    from vision.model_eval import render_test_split
    from vision.profile import ProfileError, read_profile
    from vision.quantize import calibration_images, quantize_openvino, write_int8_profile

    if preset not in ("mixed", "performance"):
        raise _fail(f"--preset {preset}: expected mixed or performance")
    try:
        prof = read_profile(profile)
        if data is None:
            typer.echo(f"rendering the synthetic val split into {cache} (cached)")
            data = render_test_split(cache, split="val")
        elif not data.exists():
            raise _fail(f"--data {data}: not found")
        files = calibration_images(split_folder(data, "val"), images)
        out = out or prof.root / f"{prof.name}_int8_openvino_model"
        t0 = time.time()
        xml = quantize_openvino(profile, files, out, mixed=preset == "mixed", progress=typer.echo)
    except (ProfileError, ValueError) as e:
        raise _fail(str(e)) from e
    size_mb = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    typer.echo(f"INT8 model: {xml} ({size_mb:.1f} MB) in {time.time() - t0:.0f} s")
    target = profile_out or profile.with_name(f"{profile.stem}-int8.yaml")
    if target.exists():
        typer.echo(f"profile {target} exists: kept (it should point at {out})")
    else:
        typer.echo(f"profile: {write_int8_profile(profile, out, target)}")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("eval-model")(eval_model)
    app.command("crop-dataset")(crop_dataset)
    app.command("quantize")(quantize)
