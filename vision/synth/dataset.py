"""Export a YOLO detection dataset from the synthetic world.

Splits are by scene seed, never by frame: train, val and test images come from disjoint seed
ranges, so a test image never shares a kitchen, a person or a camera with a training image.
Small objects are over-represented (dense pest/phone/cigarette scenarios) because they are the
hard part for a detector trained from scratch.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from vision.crops import crop_split, labels_in_crop, person_crop_box, write_yolo_labels
from vision.kinds import CLASS_ID, CLASS_NAMES, ObjectClass
from vision.synth.generate import build_scenario, random_spec
from vision.synth.render import Renderer

# Disjoint seed ranges per split; sample clips use seeds < 1000 and held-out eval 900_000+.
SPLIT_SEED_BASE = {"train": 100_000, "val": 500_000, "test": 700_000}
FRAMES_PER_SCENE = 4


def _render_scene(args: tuple[str, int, int, Path, int]) -> int:
    split, seed, n_frames, root, jpeg_q_seed = args
    spec = random_spec(seed, dense=True, duration_s=24.0)
    sc = build_scenario(spec)
    r = Renderer(sc)
    rng = np.random.default_rng([seed, jpeg_q_seed])
    img_dir, lbl_dir = root / "images" / split, root / "labels" / split
    W, H = sc.scene.width, sc.scene.height
    for k in range(n_frames):
        t = float(rng.uniform(0.5, spec.duration_s - 0.5))
        img, objs = r.render(t, int(t * spec.fps))
        if rng.random() < 0.3:  # motion blur / defocus, as on real cameras
            img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.6, 1.4)))
        name = f"{seed}_{k}"
        q = int(rng.integers(45, 95))
        cv2.imwrite(str(img_dir / f"{name}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, q])
        rows = [
            (CLASS_ID[o.cls], *o.xyxy)
            for o in objs
            if o.xyxy[2] - o.xyxy[0] >= 2 and o.xyxy[3] - o.xyxy[1] >= 2
        ]
        write_yolo_labels(lbl_dir / f"{name}.txt", rows, (W, H))
    return n_frames


def _each(fn: Callable[[Any], int], jobs: Sequence[Any], workers: int, chunksize: int) -> Iterator[int]:
    """``fn`` over ``jobs`` in order, in ``workers`` processes when more than one."""
    if workers <= 1:
        yield from map(fn, jobs)
        return
    # spawn, not fork: a parent holding OpenVINO/torch thread pools can deadlock forked children
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        yield from ex.map(fn, jobs, chunksize=chunksize)


def write_dataset(
    out: Path,
    images: int,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    splits: tuple[str, ...] = ("train", "val", "test"),
) -> Path:
    """Write ``out/{images,labels}/{train,val,test}`` and ``out/data.yaml``; returns the yaml path.

    ``splits`` renders only some splits (e.g. ``("test",)`` to evaluate a model on another
    machine): seeds and counts depend only on ``images`` and the fractions, so the images are
    byte-identical to those of a full render with the same arguments.
    """
    counts = {
        "val": max(FRAMES_PER_SCENE, int(images * val_fraction)),
        "test": max(FRAMES_PER_SCENE, int(images * test_fraction)),
    }
    counts["train"] = max(FRAMES_PER_SCENE, images - counts["val"] - counts["test"])
    jobs = []
    for split, n in counts.items():
        if split not in splits:
            continue
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        scenes = (n + FRAMES_PER_SCENE - 1) // FRAMES_PER_SCENE
        for s in range(scenes):
            jobs.append(
                (split, SPLIT_SEED_BASE[split] + s, min(FRAMES_PER_SCENE, n - s * FRAMES_PER_SCENE), out, 5)
            )
    done = 0
    total = sum(j[2] for j in jobs)
    for k in _each(_render_scene, jobs, workers, chunksize=4):
        done += k
        if progress:
            progress(done, total)
    data = {
        "path": str(out.resolve()),
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": dict(enumerate(CLASS_NAMES)),
    }
    yml = out / "data.yaml"
    yml.write_text(yaml.safe_dump(data, sort_keys=False))
    return yml


# Person-crop datasets for the second-stage detector (vision.crops, vision.refine): scenes with
# more smokers and phone users, every visible person cropped with the runtime's margins (jittered).
HELD_CLASS_IDS = [CLASS_ID[ObjectClass.CIGARETTE], CLASS_ID[ObjectClass.PHONE]]
CROP_SEED_BASE = {"train": 200_000, "val": 550_000}
CROP_FRAMES_PER_SCENE = 6
CROP_KEEP_PLAIN = 0.15  # share of crops with no cigarette or phone that are kept (negatives)


def _render_crop_scene(args: tuple[str, int, Path]) -> int:
    from dataclasses import replace

    split, seed, root = args
    rng = np.random.default_rng([seed, 31])
    spec = random_spec(seed, dense=True, duration_s=24.0)
    spec = replace(spec, smoking=int(rng.binomial(3, 0.6)), phone=int(rng.binomial(2, 0.5)))
    sc = build_scenario(spec)
    r = Renderer(sc)
    W, H = sc.scene.width, sc.scene.height
    n = 0
    for k in range(CROP_FRAMES_PER_SCENE):
        t = float(rng.uniform(0.5, spec.duration_s - 0.5))
        img, objs = r.render(t, int(t * spec.fps))
        if rng.random() < 0.3:
            img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.6, 1.4)))
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(45, 95))])
        img = np.asarray(
            cv2.imdecode(enc, cv2.IMREAD_COLOR), dtype=np.uint8
        )  # the compression the cameras add, before cropping
        rows = np.array([(CLASS_ID[o.cls], *o.xyxy) for o in objs], np.float32).reshape(-1, 5)
        for j, o in enumerate(objs):
            if CLASS_ID[o.cls] != 0:
                continue
            box = person_crop_box(o.xyxy, (W, H), jitter=rng.uniform(-0.06, 0.06, 4).tolist())
            if box is None:
                continue
            inside = labels_in_crop(rows, box)
            held = bool(np.isin(inside[:, 0], HELD_CLASS_IDS).any())
            if not held and rng.random() >= CROP_KEEP_PLAIN:
                continue
            name = f"{seed}_{k}_p{j}"
            crop = img[box.y1 : box.y2, box.x1 : box.x2]
            cv2.imwrite(str(root / "images" / split / f"{name}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
            write_yolo_labels(root / "labels" / split / f"{name}.txt", inside, (box.w, box.h))
            n += 1
    return n


def write_crop_dataset(
    out: Path,
    scenes: int,
    *,
    val_fraction: float = 0.1,
    workers: int = 2,
    test_from: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a person-crop YOLO dataset ``out/{images,labels}/{train,val[,test]}``; returns data.yaml.

    ``test_from``: the root of a full-frame dataset (e.g. the detector's held-out test split)
    whose ``test`` split is cropped around its labelled persons, so both stages are tested on
    the same never-trained scenes.
    """
    counts = {"val": max(1, int(scenes * val_fraction))}
    counts["train"] = max(1, scenes - counts["val"])
    jobs = []
    for split, n in counts.items():
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        jobs += [(split, CROP_SEED_BASE[split] + s, out) for s in range(n)]
    for done, _ in enumerate(_each(_render_crop_scene, jobs, workers, chunksize=8), start=1):
        if progress:
            progress(done, len(jobs))
    data: dict[str, object] = {
        "path": str(out.resolve()),
        "train": "images/train",
        "val": "images/val",
        "names": dict(enumerate(CLASS_NAMES)),
    }
    if test_from is not None:
        crop_split(
            test_from / "images" / "test",
            test_from / "labels" / "test",
            out / "images" / "test",
            out / "labels" / "test",
        )
        data["test"] = "images/test"
    yml = out / "data.yaml"
    yml.write_text(yaml.safe_dump(data, sort_keys=False))
    return yml
