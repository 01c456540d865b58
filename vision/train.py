"""Train a kitchen-violation detector with ultralytics, from a yaml (never downloaded weights).

``brightkitchen train`` calls :func:`train`; the same module runs as ``python -m vision.train``
on a machine without the CLI's extras (e.g. a lent GPU box). The network is built from the
architecture yaml shipped inside ultralytics (``yolo11n.yaml``) with random weights, or
fine-tuned from our own ``.pt`` (``--model models/kitchen-yolo11n.pt``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Augmentation chosen for small objects: little down-scaling so pests keep their pixels,
# mosaic off for the last epochs so the model sees whole frames as the cameras do.
SMALL_OBJECT_AUG = {
    "scale": 0.3,
    "mosaic": 1.0,
    "close_mosaic": 3,
    "degrees": 0.0,
    "fliplr": 0.5,
    "hsv_v": 0.5,
}
# Person crops for the second stage (vision.refine): one person per image, shown the way the
# runtime shows it, so no mosaic (it would shrink each crop to a quarter) and little scaling.
CROP_AUG = {
    "scale": 0.25,
    "mosaic": 0.0,
    "close_mosaic": 0,
    "translate": 0.05,
    "degrees": 0.0,
    "fliplr": 0.5,
    "hsv_v": 0.5,
}
AUGMENTATIONS = {"frames": SMALL_OBJECT_AUG, "crops": CROP_AUG}


@dataclass
class TrainResult:
    weights: str
    last: str
    results_csv: str
    seconds: float
    epochs_done: int
    metrics: dict[str, float]


def _augmentation(aug: str, epochs: int) -> dict[str, float | int]:
    """The preset, with mosaic never closed for a whole short run: ``close_mosaic=3`` with
    ``--epochs 3`` would train without mosaic from the first step; such runs close it for the
    last third of their epochs instead."""
    out: dict[str, float | int] = dict(AUGMENTATIONS[aug])
    if out["close_mosaic"] >= epochs:
        out["close_mosaic"] = epochs // 3
    return out


def _offline_patches(threads: int | None = None) -> None:
    """Ultralytics' AMP self-check downloads a model; there is no internet here, so skip it.

    Ultralytics also trains on CPU with ``cpu_count - 1`` torch threads: one thread on a 2-core
    machine, half its speed. ``threads`` (default: every core) overrides that.
    """
    import os

    import ultralytics.engine.trainer as trainer_mod
    import ultralytics.utils.torch_utils as torch_utils

    trainer_mod.check_amp = lambda *a, **k: True  # type: ignore[attr-defined]
    torch_utils.NUM_THREADS = threads or os.cpu_count() or 1  # type: ignore[attr-defined]


def train(
    data: Path,
    model: str = "yolo11n.yaml",
    *,
    imgsz: int = 640,
    epochs: int = 60,
    batch: int = 16,
    time_h: float | None = None,
    device: str = "cpu",
    workers: int = 2,
    out_dir: Path = Path("runs/train"),
    name: str = "kitchen",
    resume: bool = False,
    lr0: float | None = None,
    warmup_epochs: float = 3.0,
    cache: bool | str = False,
    seed: int = 0,
    aug: str = "frames",
    threads: int | None = None,
    freeze: int | None = None,
) -> TrainResult:
    from ultralytics import YOLO

    _offline_patches(threads)
    t0 = time.time()
    run_dir = out_dir / name
    if resume:
        last = run_dir / "weights" / "last.pt"
        if not last.exists():
            raise FileNotFoundError(f"cannot resume: {last} does not exist")
        yolo = YOLO(str(last))
        yolo.train(resume=True)
    else:
        yolo = YOLO(model)
        kwargs: dict[str, object] = dict(
            data=str(data),
            imgsz=imgsz,
            epochs=epochs,
            batch=batch,
            device=device,
            workers=workers,
            project=str(out_dir.resolve()),
            name=name,
            exist_ok=True,
            plots=False,
            seed=seed,
            deterministic=False,
            cache=cache,
            warmup_epochs=warmup_epochs,
            patience=1000,
            **_augmentation(aug, epochs),
        )
        if time_h:
            kwargs["time"] = time_h
        if freeze:
            kwargs["freeze"] = freeze
        if lr0 is not None:
            kwargs["lr0"] = lr0
            kwargs["optimizer"] = "AdamW"
        yolo.train(**kwargs)
    weights = run_dir / "weights" / "best.pt"
    csv = run_dir / "results.csv"
    metrics: dict[str, float] = {}
    epochs_done = 0
    if csv.exists():
        rows = [r.split(",") for r in csv.read_text().strip().splitlines()]
        head = [h.strip() for h in rows[0]]
        last_row = rows[-1]
        epochs_done = len(rows) - 1
        for k in ("metrics/mAP50(B)", "metrics/mAP50-95(B)", "metrics/precision(B)", "metrics/recall(B)"):
            if k in head:
                metrics[k] = float(last_row[head.index(k)])
    return TrainResult(
        str(weights), str(run_dir / "weights" / "last.pt"), str(csv), time.time() - t0, epochs_done, metrics
    )


def write_card_draft(res: TrainResult, *, command: str, data: Path | None) -> Path:
    """A model card skeleton beside the weights: what was trained, how, for how long, and how well.

    The shipped card (``models/kitchen-yolo11n.md``) started as one of these; a user training on
    their own footage fills in the data and limitations sections.
    """
    run_dir = Path(res.weights).parent.parent
    lines = [
        f"# Model card (draft): {run_dir.name}",
        "",
        "## Training",
        f"- command: `{command}`",
        f"- data: `{data}`" if data else "- data: (resumed run: see args.yaml)",
        f"- epochs done: {res.epochs_done}, wall time {res.seconds / 60:.1f} min",
        f"- weights: `{res.weights}`; per-epoch metrics: `{res.results_csv}`",
        "",
        "## Validation (last epoch, val split)",
        *(f"- {k}: {v:.4f}" for k, v in res.metrics.items()),
        "",
        "## To fill in",
        "- data: where the images come from, how many, how labelled, how split",
        "- per-class mAP50 on a held-out test split: `brightkitchen eval-model --profile ... --data ...`",
        "- speed per backend: `python benchmarks/detector.py --profile ...`",
        "- known limitations, licence (ultralytics is AGPL-3.0)",
        "",
    ]
    card = run_dir / "model-card-draft.md"
    card.write_text("\n".join(lines), encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", default="yolo11n.yaml")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--time-h", type=float, default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("runs/train"))
    ap.add_argument("--name", default="kitchen")
    ap.add_argument("--lr0", type=float, default=None)
    ap.add_argument("--warmup-epochs", type=float, default=3.0)
    ap.add_argument("--cache", default="")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--aug", choices=sorted(AUGMENTATIONS), default="frames")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: every core)")
    ap.add_argument("--freeze", type=int, default=None, help="freeze the first N layers (fine-tuning)")
    a = ap.parse_args(argv)
    res = train(
        a.data,
        a.model,
        imgsz=a.imgsz,
        epochs=a.epochs,
        batch=a.batch,
        time_h=a.time_h,
        device=a.device,
        workers=a.workers,
        out_dir=a.out,
        name=a.name,
        resume=a.resume,
        lr0=a.lr0,
        warmup_epochs=a.warmup_epochs,
        cache=a.cache or False,
        aug=a.aug,
        threads=a.threads,
        freeze=a.freeze,
    )
    print(json.dumps(asdict(res), indent=2))
    shutil.copy(res.results_csv, a.out / f"{a.name}-results.csv") if Path(res.results_csv).exists() else None


if __name__ == "__main__":
    main()
