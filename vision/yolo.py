"""The YOLO detector behind ``vision.detector.Detector``: PyTorch, ONNX Runtime or OpenVINO.

All three backends share one pre- and post-processing path (letterbox into the profile's fixed
input, per-class thresholds from the profile, class-aware NMS in numpy, boxes mapped back to the
frame), so they differ only in the network runtime and give the same boxes within float
tolerance. Only the PyTorch backend imports torch and ultralytics (to load a ``.pt``); the ONNX
Runtime and OpenVINO backends read class names from the export's own metadata and never import
them, which keeps a camera process ~650 MB smaller.

Example::

    detector, profile = load_profile(Path("models/kitchen-yolo11n.yaml"))
    dets = detector.detect([frame_cam1, frame_cam2])   # one sv.Detections per frame
    dets[0][dets[0].data["class_name"] == "head_bare"]
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv
import yaml

from vision.profile import Backend, Profile, ProfileError, check_class_names, read_profile

PAD_VALUE = 114  # grey padding, as in training
MAX_BATCH = 2  # images per network call (see YoloDetector)
MAX_NMS = 30_000  # candidates per image that enter NMS (highest confidence first), as ultralytics


class _Runner(Protocol):
    names: list[str]

    def __call__(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...


def _names_list(names: dict[int, str] | list[str]) -> list[str]:
    if isinstance(names, dict):
        return [names[i] for i in sorted(names)]
    return list(names)


class _TorchRunner:
    def __init__(self, path: Path, threads: int | None, hw: tuple[int, int]) -> None:
        import torch
        from ultralytics import YOLO

        if threads:
            torch.set_num_threads(threads)  # process-wide: torch has no per-model thread pool
        yolo = YOLO(str(path), task="detect")
        self.model = yolo.model.fuse().eval().float()  # type: ignore[union-attr,operator]
        self.names = _names_list(yolo.names)
        self._torch = torch

    def __call__(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        with self._torch.inference_mode():
            out = self.model(self._torch.from_numpy(batch))
        y = out[0] if isinstance(out, (list, tuple)) else out
        return np.asarray(y.numpy(), dtype=np.float32)


class _OnnxRunner:
    def __init__(self, path: Path, threads: int | None, hw: tuple[int, int]) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if "names" not in meta:
            raise ProfileError(f"{path}: ONNX file carries no class names (export it with ultralytics)")
        self.names = _names_list(ast.literal_eval(meta["names"]))
        self.input = self.session.get_inputs()[0]

    def __call__(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return np.asarray(self.session.run(None, {self.input.name: batch})[0], dtype=np.float32)


class _OpenVinoRunner:
    """Compiles the network once, with a dynamic batch dimension, at the profile's input size.

    One compiled model serves every batch size (compiling one per size cost ~0.3 s and ~90 MB
    each). An IR exported with dynamic shapes is reshaped to the profile's input size, so one
    export serves several profiles (e.g. 640x384 for most cameras, 832x480 for pest cameras).
    """

    def __init__(self, path: Path, threads: int | None, hw: tuple[int, int]) -> None:
        import openvino as ov

        xml = path if path.suffix == ".xml" else next(iter(sorted(path.glob("*.xml"))), None)
        if xml is None or not xml.exists():
            raise ProfileError(f"{path}: no OpenVINO .xml model found")
        meta_file = xml.parent / "metadata.yaml"
        if not meta_file.exists():
            raise ProfileError(f"{meta_file}: missing (class names of the OpenVINO model)")
        self.names = _names_list(yaml.safe_load(meta_file.read_text())["names"])
        core = ov.Core()
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        model = core.read_model(str(xml))
        shape = model.inputs[0].get_partial_shape()
        h, w = shape[2], shape[3]
        self.fixed_hw = (h.get_length(), w.get_length()) if h.is_static and w.is_static else None
        # any batch size; a static export keeps its size (YoloDetector refuses it if it differs)
        model.reshape({model.inputs[0]: ov.PartialShape([-1, 3, *(self.fixed_hw or hw)])})
        self.compiled = core.compile_model(model, "CPU", config)
        self.output = self.compiled.outputs[0]

    def __call__(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return np.asarray(self.compiled(batch)[self.output], dtype=np.float32)


_RUNNERS: dict[Backend, type[_TorchRunner] | type[_OnnxRunner] | type[_OpenVinoRunner]] = {
    Backend.PYTORCH: _TorchRunner,
    Backend.ONNX: _OnnxRunner,
    Backend.OPENVINO: _OpenVinoRunner,
}


def _input_hw(runner: _Runner) -> tuple[int, int] | None:
    """Fixed spatial size baked into an exported model, if any (dynamic exports have none)."""
    if isinstance(runner, _OpenVinoRunner):
        return runner.fixed_hw
    if isinstance(runner, _OnnxRunner):
        h, w = runner.input.shape[2], runner.input.shape[3]
        return (h, w) if isinstance(h, int) and isinstance(w, int) else None
    return None


Image = npt.NDArray[np.uint8]


def letterbox(image: Image, hw: tuple[int, int]) -> tuple[Image, float, int, int]:
    """Fit ``image`` into ``hw`` keeping its aspect, pad with grey; returns (img, scale, pad_x, pad_y)."""
    H, W = hw
    h0, w0 = image.shape[:2]
    r = min(H / h0, W / w0)
    nw, nh = round(w0 * r), round(h0 * r)
    if (nw, nh) != (w0, h0):
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    px, py = (W - nw) // 2, (H - nh) // 2
    out = np.full((H, W, 3), PAD_VALUE, dtype=np.uint8)
    out[py : py + nh, px : px + nw] = image
    return out, r, px, py


class YoloDetector:
    """``vision.detector.Detector`` for any YOLO detection model described by a profile.

    One instance serves every camera of a process: ``detect`` takes frames of any sizes (BGR)
    and runs them in batches of at most ``max_batch``. ``threads`` caps the runtime's CPU
    threads (None: its default). Calls from several threads are serialised (the runtimes' infer
    requests are not shareable).

    Why ``max_batch`` is 2: each image of a batch holds ~40 MB of activations in OpenVINO
    (8 cameras in one process peak at ~550 MB with batch 1, ~600 MB with 2, ~650 MB with 4,
    ~760 MB with 8), while on a shared 2-core CPU larger batches showed no gain per frame
    (``benchmarks/detector.py --batches 1,2,4,8``; docs/evaluation.md has the numbers).
    """

    def __init__(
        self,
        profile: Profile,
        *,
        backend: Backend | None = None,
        threads: int | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.profile = profile
        self.max_batch = max_batch
        self.backend = backend or profile.backend
        path = profile.weights_path(self.backend)
        if not path.exists():
            raise ProfileError(f"{path}: weights for backend {self.backend.value!r} not found")
        self.hw = (profile.input_size.height, profile.input_size.width)
        self._run: _Runner = _RUNNERS[self.backend](path, threads, self.hw)
        check_class_names(profile, self._run.names, f"{path.name} ({self.backend.value})")
        fixed = _input_hw(self._run)
        if fixed is not None and fixed != self.hw:
            raise ProfileError(
                f"{path.name} was exported for input {fixed[1]}x{fixed[0]} but the profile says "
                f"{self.hw[1]}x{self.hw[0]}: re-export or fix input_size"
            )
        self.class_names: tuple[str, ...] = tuple(profile.class_names)
        self.model_version = profile.model_version
        self._thresholds = np.array([profile.threshold(n) for n in self.class_names], dtype=np.float32)
        self._names = np.array(self.class_names)
        self._lock = threading.Lock()

    def preprocess(self, images: Sequence[Image]) -> tuple[npt.NDArray[np.float32], list[Any]]:
        batch = np.empty((len(images), 3, *self.hw), dtype=np.float32)  # filled in place: one copy
        geo = []
        for i, img in enumerate(images):
            if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 2:
                raise ValueError(f"expected a BGR uint8 image of shape HxWx3, got {img.dtype} {img.shape}")
            lb, r, px, py = letterbox(img, self.hw)
            batch[i] = lb.transpose(2, 0, 1)[::-1]  # BGR HWC -> RGB CHW
            geo.append((r, px, py, img.shape[1], img.shape[0]))
        np.divide(batch, 255.0, out=batch)
        return batch, geo

    def raw(self, images: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """The network's output before NMS, ``(batch, 4 + classes, anchors)`` (for backend checks)."""
        return np.concatenate([self._infer(c)[0] for c in self._chunks(images)])

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        out: list[sv.Detections] = []
        for chunk in self._chunks(images):
            out.extend(self._postprocess(*self._infer(chunk)))
        return out

    def _chunks(self, images: Sequence[Image]) -> list[Sequence[Image]]:
        return [images[i : i + self.max_batch] for i in range(0, len(images), self.max_batch)]

    def _infer(self, images: Sequence[Image]) -> tuple[npt.NDArray[np.float32], list[Any]]:
        batch, geo = self.preprocess(images)
        with self._lock:
            return self._run(batch), geo

    def _postprocess(self, raw: npt.NDArray[np.float32], geo: list[Any]) -> list[sv.Detections]:
        nc = len(self.class_names)
        if raw.ndim != 3 or raw.shape[0] != len(geo) or raw.shape[1] < 4 + nc:
            raise ValueError(
                f"model output has shape {raw.shape}, expected (batch, 4 + {nc} classes, anchors): "
                "end-to-end (NMS-free) exports are not supported"
            )
        out = []
        for pred, (r, px, py, w0, h0) in zip(raw, geo, strict=True):
            xyxy, conf, cls = select_boxes(
                pred[: 4 + nc], self._thresholds, self.profile.nms_iou, self.profile.max_detections
            )
            if len(conf) == 0:
                out.append(sv.Detections.empty())
                continue
            xyxy = (xyxy - np.array([px, py, px, py], dtype=np.float32)) / r
            xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, w0)
            xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, h0)
            out.append(
                sv.Detections(
                    xyxy=xyxy.astype(np.float32),
                    confidence=conf,
                    class_id=cls,
                    data={"class_name": self._names[cls]},
                )
            )
        return out


def select_boxes(
    pred: npt.NDArray[np.float32], thresholds: npt.NDArray[np.float32], iou: float, max_det: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.intp]]:
    """Boxes of one image from the raw YOLO head ``(4 + classes, anchors)``, xywh in input pixels.

    Each anchor takes its best class; it is a candidate when that score passes the class's
    threshold (``thresholds[class]``, and strictly above the lowest one, as ultralytics filters
    at the lowest); candidates go through class-aware NMS at ``iou``; at most ``max_det`` are
    kept, highest confidence first. Returns ``(xyxy (n,4), confidence (n,), class_id (n,))``.
    Ultralytics filters at the lowest threshold before NMS and per class after; both give the
    same boxes (a box is only suppressed by a stronger box of its own class), unless more than
    ``max_det`` survive.

    Example::

        xyxy, conf, cls = select_boxes(raw[0], np.full(13, 0.25, np.float32), 0.6, 300)
    """
    scores = pred[4:]
    cls = scores.argmax(axis=0)
    conf = np.take_along_axis(scores, cls[None], axis=0)[0]
    cand = np.flatnonzero((conf > thresholds.min()) & (conf >= thresholds[cls]))
    if len(cand) > MAX_NMS:
        cand = cand[np.argsort(-conf[cand], kind="stable")[:MAX_NMS]]
    xywh = pred[:4, cand].T
    xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], axis=1)
    keep = nms(xyxy, conf[cand], cls[cand], iou, max_det)
    return xyxy[keep], conf[cand][keep].astype(np.float32), cls[cand][keep].astype(np.intp)


def nms(
    xyxy: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    class_id: npt.NDArray[np.integer[Any]],
    iou: float,
    max_det: int,
) -> npt.NDArray[np.intp]:
    """Greedy class-aware non-maximum suppression: the indices kept, highest score first.

    Within each class, a box is dropped when its IoU with a kept, higher-scoring box is above
    ``iou`` (torchvision's rule); boxes of different classes never suppress each other.

    Example::

        nms(np.array([[0, 0, 10, 10], [1, 1, 10, 10]], np.float32), np.array([0.9, 0.8]),
            np.array([0, 0]), 0.5, 300)   # -> array([0])
    """
    kept = [idx[_greedy(xyxy[idx], scores[idx], iou)] for idx in _by_class(class_id)]
    if not kept:
        return np.zeros(0, dtype=np.intp)
    keep = np.concatenate(kept)
    return keep[np.argsort(-scores[keep], kind="stable")][:max_det]


def _by_class(class_id: npt.NDArray[np.integer[Any]]) -> list[npt.NDArray[np.intp]]:
    order = np.argsort(class_id, kind="stable")
    starts = np.flatnonzero(np.diff(class_id[order])) + 1
    return [g for g in np.split(order, starts) if len(g)]


def _greedy(
    xyxy: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou: float
) -> npt.NDArray[np.intp]:
    """Single-class NMS; one vectorised IoU row per kept box."""
    x1, y1, x2, y2 = xyxy.T
    area = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(i)
        w = (np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest])).clip(0)
        h = (np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest])).clip(0)
        inter = w * h
        with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 for empty boxes: kept, as torchvision
            order = rest[~(inter / (area[i] + area[rest] - inter) > iou)]
    return np.array(keep, dtype=np.intp)


def load_profile(
    path: Path,
    *,
    backend: Backend | str | None = None,
    threads: int | None = None,
    max_batch: int = MAX_BATCH,
) -> tuple[YoloDetector, Profile]:
    """Read a model profile and load its weights; raises ``ProfileError`` (a ``ValueError``)
    on a bad profile, missing weights, or a class list that differs from the model's."""
    profile = read_profile(path)
    be = Backend(backend) if backend is not None else None
    return YoloDetector(profile, backend=be, threads=threads, max_batch=max_batch), profile
