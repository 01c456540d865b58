"""Two-stage detection: the full-frame detector, then a second look at every person, enlarged.

A cigarette is 2-4 px thick in a 640x360 frame. The full-frame model finds most of them but
places their boxes poorly; a second YOLO model, trained on person crops (``vision.crops``), sees
each detected person letterboxed into its own small input (2-4x the pixels) and finds the held
objects again. The result has the same shape as a one-stage detector's, so the pipeline, the
runtime and the evaluation take either.

A profile opts in with a ``refine`` section naming the crop model's profile and the classes it
decides::

    refine:
      profile: kitchen-yolo11n-crops.yaml
      classes: [cigarette, phone]

Example::

    detector, profile = load_detector(Path("models/kitchen-yolo11n.yaml"))
    detector.detect([frame])      # one sv.Detections per frame, crops already merged
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import supervision as sv

from vision.crops import CropBox, person_crop_box
from vision.detector import Detector
from vision.profile import Backend, Profile, ProfileError, read_profile
from vision.yolo import YoloDetector, nms

Image = npt.NDArray[np.uint8]


class RefinedDetector:
    """``Detector``: ``base`` on whole frames, ``crops`` on each person for ``classes``.

    Boxes of ``classes`` from the crops replace the base model's (``keep_base=False``) or are
    merged with them by NMS (``keep_base=True``). Persons below ``min_subject_confidence`` and
    beyond the ``max_subjects`` most confident per frame are not cropped (bounded cost).

    ``every``: through ``detect_cameras`` the crop stage runs on every Nth detection of each camera
    (the others get the base model's boxes alone). Cigarettes and phones are held for seconds and
    a rule's run tolerates gaps up to ``grace_s``, so the held objects are still seen several
    times a second at a fraction of the cost. ``detect`` (no cameras named) crops every image.
    """

    def __init__(
        self,
        base: Detector,
        crops: Detector,
        classes: Sequence[str],
        *,
        subject: str = "person",
        min_subject_confidence: float = 0.4,
        max_subjects: int = 8,
        keep_base: bool = True,
        merge_iou: float = 0.5,
        every: int = 1,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        missing = [c for c in (*classes, subject) if c not in base.class_names]
        missing += [c for c in classes if c not in crops.class_names]
        if missing:
            raise ProfileError(f"refine: classes {sorted(set(missing))} are not in both models' class lists")
        self.base, self.crops = base, crops
        self.classes = frozenset(classes)
        self.subject = subject
        self.min_subject_confidence = min_subject_confidence
        self.max_subjects = max_subjects
        self.keep_base = keep_base
        self.merge_iou = merge_iou
        self.class_names: tuple[str, ...] = tuple(base.class_names)
        self.model_version = f"{base.model_version}+{crops.model_version}"
        self.crops_run = 0
        self.every = every
        self._detections_seen: dict[str, int] = {}  # per camera, for ``every``

    def detect(self, images: Sequence[Image]) -> list[sv.Detections]:
        return self._detect(images, [True] * len(images))

    def detect_cameras(self, images: Sequence[Image], cameras: Sequence[str]) -> list[sv.Detections]:
        crop = []
        for cam in cameras:
            n = self._detections_seen.get(cam, 0)
            self._detections_seen[cam] = n + 1
            crop.append(n % self.every == 0)
        return self._detect(images, crop)

    def _detect(self, images: Sequence[Image], crop: Sequence[bool]) -> list[sv.Detections]:
        first = self.base.detect(images)
        jobs: list[tuple[int, CropBox]] = []
        for i, (img, d) in enumerate(zip(images, first, strict=True)):
            if crop[i]:
                jobs += [(i, box) for box in self._subject_crops(img, d)]
        found: list[list[sv.Detections]] = [[] for _ in images]
        if jobs:
            crops = [np.ascontiguousarray(images[i][b.y1 : b.y2, b.x1 : b.x2]) for i, b in jobs]
            self.crops_run += len(crops)
            for (i, b), d in zip(jobs, self.crops.detect(crops), strict=True):
                if len(d) == 0:  # sv.Detections.empty() carries no class_name column
                    continue
                d = _take(d, np.isin(d.data["class_name"], list(self.classes)))
                if len(d):
                    d.xyxy = d.xyxy + np.array([b.x1, b.y1, b.x1, b.y1], dtype=np.float32)
                    found[i].append(d)
        return [self._merge(d, extra) for d, extra in zip(first, found, strict=True)]

    def _subject_crops(self, img: Image, d: sv.Detections) -> list[CropBox]:
        if len(d) == 0:
            return []
        names = d.data["class_name"]
        conf = d.confidence if d.confidence is not None else np.ones(len(d), np.float32)
        idx = np.flatnonzero((names == self.subject) & (conf >= self.min_subject_confidence))
        idx = idx[np.argsort(-conf[idx])][: self.max_subjects]
        h, w = img.shape[:2]
        return [b for b in (person_crop_box(d.xyxy[k], (w, h)) for k in idx) if b is not None]

    def _merge(self, d: sv.Detections, extra: list[sv.Detections]) -> sv.Detections:
        refined = np.isin(d.data["class_name"], list(self.classes)) if len(d) else np.zeros(0, bool)
        parts = [_take(d, ~refined)] if len(d) else []
        pool = ([_take(d, refined)] if self.keep_base and len(d) else []) + extra
        pool = [p for p in pool if len(p)]
        if pool:
            cand = sv.Detections.merge(pool)
            # the crop model's class ids follow its own list: re-index by name into the base list
            cand.class_id = np.array([self.class_names.index(n) for n in cand.data["class_name"]], dtype=int)
            conf = cand.confidence if cand.confidence is not None else np.ones(len(cand), np.float32)
            keep = nms(
                cand.xyxy.astype(np.float32), conf.astype(np.float32), cand.class_id, self.merge_iou, 300
            )
            parts.append(_take(cand, keep))
        parts = [p for p in parts if len(p)]
        return sv.Detections.merge(parts) if parts else sv.Detections.empty()


def _take(d: sv.Detections, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> sv.Detections:
    out = d[index]
    assert isinstance(out, sv.Detections)
    return out


def load_detector(
    path: Path,
    *,
    backend: Backend | str | None = None,
    threads: int | None = None,
    min_confidence: float | None = None,
) -> tuple[Detector, Profile]:
    """Load a profile's detector, two-stage when the profile has a ``refine`` section.

    ``min_confidence`` replaces every per-class threshold of both stages (evaluation: mAP needs
    the low-confidence boxes too). Raises ``ProfileError`` like ``vision.yolo.load_profile``.
    """
    profile = read_profile(path)
    be = Backend(backend) if backend is not None else None
    base = YoloDetector(_lowered(profile, min_confidence), backend=be, threads=threads)
    if profile.refine is None:
        return base, profile
    crop_profile = read_profile(profile.root / profile.refine.profile)
    crops = YoloDetector(_lowered(crop_profile, min_confidence), backend=be, threads=threads)
    r = profile.refine
    det = RefinedDetector(
        base,
        crops,
        r.classes,
        subject=r.subject,
        min_subject_confidence=r.min_subject_confidence,
        max_subjects=r.max_subjects,
        keep_base=r.keep_base,
        every=r.every,
    )
    return det, profile


def _lowered(profile: Profile, min_confidence: float | None) -> Profile:
    if min_confidence is None:
        return profile
    return profile.with_confidence(min_confidence)
