"""A detector that answers with the ground truth: tests the rules and the pipeline without a model.

It recognises a decoded frame of a sample clip by a fingerprint of its pixels (decoding is
deterministic), so it works however the pipeline skips or batches frames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import supervision as sv

from vision.kinds import CLASS_NAMES
from vision.synth.groundtruth import load_ground_truth


def fingerprint(image: npt.NDArray[np.uint8]) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(image[::7, ::5]).tobytes(), digest_size=12).digest()


class GroundTruthDetector:
    """``vision.detector.Detector`` returning the ground-truth boxes of a clip (confidence 1)."""

    model_version = "oracle-gt"
    class_names: tuple[str, ...] = CLASS_NAMES

    def __init__(self, video: Path) -> None:
        doc = load_ground_truth(video.with_suffix(".json"))
        self.frames = doc["frames"]
        self.index: dict[bytes, int] = {}
        with av.open(str(video)) as c:
            for i, f in enumerate(c.decode(video=0)):
                self.index[fingerprint(f.to_ndarray(format="bgr24"))] = i
        self.misses = 0

    def detections_for(self, frame_index: int) -> sv.Detections:
        objs = self.frames[frame_index]["objects"] if 0 <= frame_index < len(self.frames) else []
        if not objs:
            return sv.Detections.empty()
        names = np.array([o["class"] for o in objs])
        return sv.Detections(
            xyxy=np.array([o["xyxy"] for o in objs], dtype=np.float32),
            confidence=np.ones(len(objs), dtype=np.float32),
            class_id=np.array([CLASS_NAMES.index(n) for n in names], dtype=int),
            data={"class_name": names},
        )

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        out = []
        for img in images:
            i = self.index.get(fingerprint(img))
            if i is None:
                self.misses += 1
                out.append(sv.Detections.empty())
            else:
                out.append(self.detections_for(i))
        return out
