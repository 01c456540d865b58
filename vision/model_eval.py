"""Evaluate a detector: mAP on a held-out synthetic split, false positives on hard-negative clips.

``brightkitchen eval-model`` calls these. The mAP comes from ultralytics' own validator (the
numbers a user can reproduce with ``yolo val``); the false-positive count runs our detector
(``vision.yolo``) on the sample set's clean clips, whose ground truth lists every true box, so any
detection that matches no true box of its class is a false alarm the rules could turn into an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv
import yaml

from vision.crops import label_file, read_yolo_labels, split_folder
from vision.detector import Detector

# The GPU recipe rendered 16,000 images with 6 % val and 6 % test (models/kitchen-yolo11n.md);
# the same arguments give the same seeds, hence the same 960 held-out test images.
RECIPE_IMAGES = 16_000
RECIPE_VAL_FRACTION = 0.06
RECIPE_TEST_FRACTION = 0.06
# Classes whose false alarms the model card reports (hat-like, phone, pests).
FP_CLASSES: tuple[str, ...] = ("head_hat", "head_bare", "cigarette", "phone", "rat", "cockroach")


@dataclass
class MapResult:
    images: int
    instances: int
    map50: float
    map50_95: float
    per_class_map50: dict[str, float] = field(default_factory=dict)
    per_class_instances: dict[str, int] = field(default_factory=dict)


@dataclass
class FalsePositives:
    frames: int
    per_class: dict[str, int]

    def per_100_frames(self, cls: str) -> float:
        return 100.0 * self.per_class.get(cls, 0) / max(self.frames, 1)


def render_test_split(
    out: Path,
    images: int = RECIPE_IMAGES,
    val_fraction: float = RECIPE_VAL_FRACTION,
    test_fraction: float = RECIPE_TEST_FRACTION,
    workers: int = 1,
    split: str = "test",
) -> Path:
    """Render one split of the recipe's synthetic dataset (cached) and a yaml that validates on it.

    Ultralytics' dataset check wants ``train`` and ``val`` folders to exist, so the eval yaml
    points all three at the rendered split. One worker by default: 960 images take ~10 s, and
    forking a process that already runs OpenVINO/torch thread pools can deadlock the children.
    """
    from vision.synth.dataset import write_dataset

    yml = out / "eval.yaml"
    if yml.exists():
        return yml
    write_dataset(
        out, images, val_fraction=val_fraction, test_fraction=test_fraction, workers=workers, splits=(split,)
    )
    doc = yaml.safe_load((out / "data.yaml").read_text())
    doc.update(train=f"images/{split}", val=f"images/{split}", test=f"images/{split}")
    yml.write_text(yaml.safe_dump(doc, sort_keys=False))
    return yml


def validate(
    weights: Path, data: Path, *, split: str = "test", imgsz: int = 640, batch: int = 16
) -> MapResult:
    """Run ultralytics' validator; ``weights`` is a .pt, .onnx or OpenVINO folder."""
    import tempfile

    from ultralytics import YOLO

    model = YOLO(str(weights), task="detect")
    with tempfile.TemporaryDirectory() as scratch:  # the validator insists on a run folder
        m = model.val(
            data=str(data), split=split, imgsz=imgsz, batch=batch, workers=0, plots=False, device="cpu",
            verbose=False, project=scratch, name="val",
        )  # fmt: skip
    names: dict[int, str] = m.names
    ap50 = m.box.all_ap[:, 0] if len(m.box.all_ap) else np.zeros(0)
    per_class = {names[int(c)]: float(ap50[i]) for i, c in enumerate(m.box.ap_class_index)}
    counts = {names[i]: int(n) for i, n in enumerate(m.nt_per_class)} if m.nt_per_class is not None else {}
    return MapResult(
        images=_count_images(data, split),
        instances=int(sum(counts.values())),
        map50=float(m.box.map50),
        map50_95=float(m.box.map),
        per_class_map50=per_class,
        per_class_instances=counts,
    )


def _count_images(data: Path, split: str) -> int:
    folder = split_folder(data, split)
    return sum(1 for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp"})


def _iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Pairwise IoU of boxes ``a (n,4)`` and ``b (m,4)``, xyxy."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return np.asarray(inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9), dtype=np.float32)


def count_false_positives(
    detector: Detector,
    clips: Sequence[Path],
    *,
    classes: Sequence[str] = FP_CLASSES,
    iou: float = 0.3,
    batch: int = 8,
    stride: int = 1,
) -> FalsePositives:
    """Detections of ``classes`` that overlap no ground-truth box of the same class (IoU < ``iou``)."""
    from vision.decode import read_frames
    from vision.synth.groundtruth import load_ground_truth

    per_class = dict.fromkeys(classes, 0)
    frames = 0
    for clip in clips:
        gt = load_ground_truth(clip.with_suffix(".json"))["frames"]
        pending: list[tuple[int, npt.NDArray[np.uint8]]] = []
        for f in read_frames(clip, camera_id=clip.stem):
            if f.index % stride == 0:
                pending.append((f.index, f.image))
            if len(pending) == batch:
                frames += _score(detector, pending, gt, per_class, iou)
                pending = []
        if pending:
            frames += _score(detector, pending, gt, per_class, iou)
    return FalsePositives(frames=frames, per_class=per_class)


def _score(
    detector: Detector,
    pending: list[tuple[int, npt.NDArray[np.uint8]]],
    gt: list[dict[str, object]],
    per_class: dict[str, int],
    iou: float,
) -> int:
    dets = detector.detect([img for _, img in pending])
    for (index, _), d in zip(pending, dets, strict=True):
        objs = gt[index]["objects"] if index < len(gt) else []
        assert isinstance(objs, list)
        for cls in per_class:
            mine = d.xyxy[d.data["class_name"] == cls] if len(d) else np.zeros((0, 4), np.float32)
            if len(mine) == 0:
                continue
            true = np.array([o["xyxy"] for o in objs if o["class"] == cls], dtype=np.float32).reshape(-1, 4)
            if len(true) == 0:
                per_class[cls] += len(mine)
            else:
                per_class[cls] += int((_iou(mine, true).max(axis=1) < iou).sum())
    return len(pending)


def suggest_thresholds(
    detector: Detector, images_dir: Path, *, iou: float = 0.5, batch: int = 8
) -> dict[str, tuple[float, float]]:
    """Per class, the confidence threshold with the best F1 on labelled images (and that F1).

    Run it on the *val* split (the test split stays for reporting). ``detector`` must keep boxes
    down to a low confidence (e.g. a profile with ``default_confidence: 0.05``).
    """
    names = list(detector.class_names)
    scores: dict[str, list[tuple[float, bool]]] = {n: [] for n in names}
    n_true = dict.fromkeys(names, 0)
    files = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in {".jpg", ".png"})
    for i in range(0, len(files), batch):
        chunk = files[i : i + batch]
        imgs = [_read(p) for p in chunk]
        for path, img, d in zip(chunk, imgs, detector.detect(imgs), strict=True):
            _collect(path, img.shape[:2], d, names, scores, n_true, iou)
    grid = np.round(np.arange(0.1, 0.91, 0.05), 2)
    out: dict[str, tuple[float, float]] = {}
    for n in names:
        conf = np.array([c for c, _ in scores[n]], dtype=np.float32)
        tp = np.array([t for _, t in scores[n]], dtype=bool)
        f1 = [_f1(int((tp & (conf >= g)).sum()), int((conf >= g).sum()), n_true[n]) for g in grid]
        k = int(np.argmax(f1))
        out[n] = (float(grid[k]), float(f1[k]))
    return out


def _read(path: Path) -> npt.NDArray[np.uint8]:
    img = cv2.imread(str(path))
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    return np.asarray(img, dtype=np.uint8)


def _f1(tp: int, predicted: int, true: int) -> float:
    return 2.0 * tp / max(predicted + true, 1)


def _collect(
    path: Path,
    hw: tuple[int, ...],
    d: sv.Detections,
    names: list[str],
    scores: dict[str, list[tuple[float, bool]]],
    n_true: dict[str, int],
    iou: float,
) -> None:
    """Greedy one-to-one matching by confidence, as mAP does, for one image."""
    rows = read_yolo_labels(label_file(path), (hw[1], hw[0]))
    for k, n in enumerate(names):
        true = rows[rows[:, 0] == k][:, 1:].astype(np.float32)
        n_true[n] += len(true)
        mask = d.data["class_name"] == n if len(d) else np.zeros(0, dtype=bool)
        mine, conf = d.xyxy[mask], d.confidence[mask] if d.confidence is not None else np.zeros(0)
        used = np.zeros(len(true), dtype=bool)
        ious = _iou(mine, true) if len(mine) and len(true) else np.zeros((len(mine), len(true)))
        for j in np.argsort(-conf):
            ok = False
            if len(true):
                cand = np.where(~used & (ious[j] >= iou))[0]
                if len(cand):
                    used[cand[np.argmax(ious[j][cand])]] = ok = True
            scores[n].append((float(conf[j]), ok))


def detector_map(
    detector: Detector, images_dir: Path, *, batch: int = 8, progress: bool = False
) -> MapResult:
    """mAP of any ``Detector`` (one- or two-stage) on a labelled YOLO split, in frame pixels.

    Ultralytics' validator can only run one ultralytics model; a two-stage detector
    (``vision.refine``) is scored here instead, with the validator's own pieces: its matching
    rule (every IoU threshold 0.50:0.95, each truth and each prediction matched once, highest IoU
    first) and its ``ap_per_class`` (101-point interpolated AP). ``detector`` must keep
    low-confidence boxes (``load_detector(..., min_confidence=0.001)``), as the validator does.
    """
    from ultralytics.utils.metrics import ap_per_class

    names = list(detector.class_names)
    iouv = np.linspace(0.5, 0.95, 10)
    tps, confs, pred_cls, true_cls = [], [], [], []
    files = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    for i in range(0, len(files), batch):
        chunk = files[i : i + batch]
        imgs = [_read(p) for p in chunk]
        for path, img, d in zip(chunk, imgs, detector.detect(imgs), strict=True):
            rows = read_yolo_labels(label_file(path), (img.shape[1], img.shape[0]))
            t_cls = rows[:, 0].astype(int)
            p_cls = (
                np.array([names.index(n) for n in d.data["class_name"]], dtype=int)
                if len(d)
                else np.zeros(0, int)
            )
            conf = d.confidence if (len(d) and d.confidence is not None) else np.zeros(len(d), np.float32)
            tps.append(_match(d.xyxy.astype(np.float32), p_cls, rows[:, 1:].astype(np.float32), t_cls, iouv))
            confs.append(conf)
            pred_cls.append(p_cls)
            true_cls.append(t_cls)
        if progress:
            print(f"\r  {min(i + batch, len(files))}/{len(files)} images", end="", flush=True)
    if progress:
        print()
    tp, conf, pc, tc = (np.concatenate(x) for x in (tps, confs, pred_cls, true_cls))
    res = ap_per_class(tp, conf, pc, tc, names=dict(enumerate(names)))
    ap, classes = res[5], res[6]  # (n_classes, 10 IoU thresholds), class ids present in the truth
    counts = {names[int(c)]: int((tc == c).sum()) for c in np.unique(tc)}
    return MapResult(
        images=len(files),
        instances=len(tc),
        map50=float(ap[:, 0].mean()) if len(ap) else 0.0,
        map50_95=float(ap.mean()) if len(ap) else 0.0,
        per_class_map50={names[int(c)]: float(ap[k, 0]) for k, c in enumerate(classes)},
        per_class_instances=counts,
    )


def _match(
    pred: npt.NDArray[np.float32],
    p_cls: npt.NDArray[np.int_],
    true: npt.NDArray[np.float32],
    t_cls: npt.NDArray[np.int_],
    iouv: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """True positives ``(n_pred, len(iouv))`` by the validator's rule (same class, unique pairs)."""
    correct = np.zeros((len(pred), len(iouv)), dtype=bool)
    if len(pred) == 0 or len(true) == 0:
        return correct
    iou = _iou(true, pred) * (t_cls[:, None] == p_cls[None, :])
    for k, th in enumerate(iouv):
        t_idx, p_idx = np.nonzero(iou >= th)
        if len(t_idx) == 0:
            continue
        order = np.argsort(-iou[t_idx, p_idx], kind="stable")
        t_idx, p_idx = t_idx[order], p_idx[order]
        _, first_p = np.unique(p_idx, return_index=True)
        t_idx, p_idx = t_idx[first_p], p_idx[first_p]  # no re-sort here, as ultralytics
        _, first_t = np.unique(t_idx, return_index=True)
        correct[p_idx[first_t], k] = True
    return correct
