"""Person crops: the geometry shared by the second-stage detector's training data and its runtime.

Hand-held objects (a cigarette, a phone) are a few pixels in a 640x360 frame: a cigarette is
about 15x8 px, 2-4 px thick, so a full-frame detector localises it poorly (most of the lost
mAP is boxes that overlap the truth by less than IoU 0.5). Cropping each detected person and
letting the network see the crop enlarged gives the same object 2-4x more input pixels.

The crop box is a function of the person box alone, so training crops (from ground-truth person
boxes) and runtime crops (from detected person boxes) frame the person the same way.

Example::

    box = person_crop_box((100, 40, 160, 200), frame_wh=(640, 360))
    crop = frame[box[1]:box[3], box[0]:box[2]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

# Margins around the person box, as fractions of its width / height: the box already covers
# what the person holds (it is the union of the visible parts), the margin absorbs detector jitter.
MARGIN_X = 0.20
MARGIN_Y = 0.06
MIN_CROP_PX = 12  # smaller persons carry no usable attribute pixels
KEEP_INSIDE = 0.6  # a labelled box is kept in a crop when this share of it lies inside


@dataclass(frozen=True, slots=True)
class CropBox:
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def w(self) -> int:
        return self.x2 - self.x1

    @property
    def h(self) -> int:
        return self.y2 - self.y1


def person_crop_box(
    xyxy: Sequence[float], frame_wh: tuple[int, int], *, jitter: Sequence[float] | None = None
) -> CropBox | None:
    """The crop for a person box, clipped to the frame; ``None`` when it is too small to use.

    ``jitter`` (training only): four fractions of the box size added to x1, y1, x2, y2, so the
    model does not learn that a person always sits exactly at the same place in its crop.
    """
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    bw, bh = x2 - x1, y2 - y1
    if bw <= 0 or bh <= 0:
        return None
    j = [0.0, 0.0, 0.0, 0.0] if jitter is None else [float(v) for v in jitter]
    W, H = frame_wh
    box = CropBox(
        max(0, int(np.floor(x1 - bw * (MARGIN_X + j[0])))),
        max(0, int(np.floor(y1 - bh * (MARGIN_Y + j[1])))),
        min(W, int(np.ceil(x2 + bw * (MARGIN_X + j[2])))),
        min(H, int(np.ceil(y2 + bh * (MARGIN_Y + j[3])))),
    )
    if box.w < MIN_CROP_PX or box.h < MIN_CROP_PX:
        return None
    return box


def labels_in_crop(labels: np.ndarray, box: CropBox, *, keep_inside: float = KEEP_INSIDE) -> np.ndarray:
    """Rows ``(class, x1, y1, x2, y2)`` in frame pixels → the same rows in crop pixels, clipped;
    boxes with less than ``keep_inside`` of their area inside the crop are dropped."""
    if len(labels) == 0:
        return np.zeros((0, 5), np.float32)
    a = labels.astype(np.float32)
    cx1 = np.clip(a[:, 1], box.x1, box.x2)
    cy1 = np.clip(a[:, 2], box.y1, box.y2)
    cx2 = np.clip(a[:, 3], box.x1, box.x2)
    cy2 = np.clip(a[:, 4], box.y1, box.y2)
    area = np.maximum(a[:, 3] - a[:, 1], 1e-6) * np.maximum(a[:, 4] - a[:, 2], 1e-6)
    inside = np.maximum(cx2 - cx1, 0) * np.maximum(cy2 - cy1, 0)
    keep = (inside / area >= keep_inside) & (cx2 - cx1 >= 2) & (cy2 - cy1 >= 2)
    out = np.stack([a[:, 0], cx1 - box.x1, cy1 - box.y1, cx2 - box.x1, cy2 - box.y1], 1)
    return out[keep]


def write_yolo_labels(path: Path, rows: np.ndarray | Sequence[Sequence[float]], wh: tuple[int, int]) -> None:
    """Write ``(class, x1, y1, x2, y2)`` pixel rows as a YOLO label file (normalised centre/size)."""
    w, h = wh
    lines = [
        f"{int(c)} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"
        for c, x1, y1, x2, y2 in rows
    ]
    path.write_text("\n".join(lines) + ("\n" if lines else ""))


def read_yolo_labels(path: Path, wh: tuple[int, int]) -> np.ndarray:
    """A YOLO label file → rows ``(class, x1, y1, x2, y2)`` in pixels (empty if missing)."""
    if not path.exists() or path.stat().st_size == 0:
        return np.zeros((0, 5))
    a = np.loadtxt(path, ndmin=2)
    w, h = wh
    c, x, y, bw, bh = a.T
    return np.stack([c, (x - bw / 2) * w, (y - bh / 2) * h, (x + bw / 2) * w, (y + bh / 2) * h], 1)


def label_file(image: Path) -> Path:
    """The YOLO label file of ``images/<split>/<name>.jpg``: ``labels/<split>/<name>.txt``."""
    return image.parent.parent.parent / "labels" / image.parent.name / f"{image.stem}.txt"


def split_folder(data: Path, split: str) -> Path:
    """The image folder of one split of a YOLO dataset yaml (``path`` + ``val``, as ultralytics)."""
    doc = yaml.safe_load(data.read_text())
    if split not in doc:
        raise ValueError(f"{data}: no {split!r} split")
    root = Path(doc.get("path") or data.parent)
    if not root.is_absolute():
        root = (data.parent / root).resolve()
    folder = root / doc[split]
    if not folder.is_dir():
        raise ValueError(f"{data}: {split} folder {folder} not found")
    return folder


def crop_split(
    images_dir: Path, labels_dir: Path, out_images: Path, out_labels: Path, *, person_class: int = 0
) -> int:
    """Turn one split of a YOLO dataset into person crops (one image per labelled person).

    Works on any YOLO detection dataset whose class ``person_class`` is the person, e.g. a user's
    own labelled footage (docs/train-on-your-data.md). Returns the number of crops written.
    """
    out_images.mkdir(parents=True, exist_ok=True)
    out_labels.mkdir(parents=True, exist_ok=True)
    n = 0
    for img_path in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}):
        img = cv2.imread(str(img_path))
        if img is None:
            raise ValueError(f"{img_path}: not a readable image")
        H, W = img.shape[:2]
        rows = read_yolo_labels(labels_dir / f"{img_path.stem}.txt", (W, H))
        for k, row in enumerate(rows[rows[:, 0] == person_class] if len(rows) else rows):
            box = person_crop_box(row[1:], (W, H))
            if box is None:
                continue
            name = f"{img_path.stem}_p{k}"
            cv2.imwrite(
                str(out_images / f"{name}.jpg"),
                img[box.y1 : box.y2, box.x1 : box.x2],
                [cv2.IMWRITE_JPEG_QUALITY, 95],
            )
            write_yolo_labels(out_labels / f"{name}.txt", labels_in_crop(rows, box), (box.w, box.h))
            n += 1
    return n
