"""INT8 post-training quantization of a profile's OpenVINO model (NNCF), for less CPU per frame.

``brightkitchen quantize`` calls ``quantize_openvino``: it calibrates the FP32 IR on a few
hundred labelled-split images (never the test split that is reported), preprocessed exactly as
the runtime does (``YoloDetector.preprocess``: letterbox to the profile's input, RGB, /255), so
the activation ranges NNCF measures are the ones the camera process will feed. The head's box
decoding (anchor grid, DFL softmax, strides, the final concat) and its class sigmoid stay in
floating point, as ultralytics does for its own INT8 OpenVINO export: those ops carry pixel
coordinates and scores whose INT8 rounding would move boxes and thresholds. The result keeps
the FP32 IR's dynamic shapes, so ``vision.yolo``'s OpenVINO backend loads it like any export.

NNCF is only needed here (it is never imported by the runtime).

Example::

    out = quantize_openvino(Path("models/kitchen-yolo11n.yaml"), images, Path("models/x_int8"))
    write_int8_profile(Path("models/kitchen-yolo11n.yaml"), out)   # models/kitchen-yolo11n-int8.yaml
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import yaml

from vision.profile import Backend, Profile, ProfileError, read_profile

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def calibration_images(folder: Path, count: int) -> list[Path]:
    """``count`` images spread evenly over a folder (sorted, so every scene seed is sampled)."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no images to calibrate on")
    if count >= len(files):
        return files
    picks = np.linspace(0, len(files) - 1, count).round().astype(int)
    return [files[i] for i in picks]


def head_scope(model: Any) -> list[str]:
    """Names of the detection head's decoding ops (kept in floating point).

    The last ``Sigmoid`` (class scores) lives in the ``Detect`` module (e.g. ``__module.model.23``);
    its own ops (anchors, strides, concats) and its ``dfl`` submodule are ignored, while the
    head's convolution branches (``.cv2``, ``.cv3``) are quantized like the rest of the network.
    """
    ops = model.get_ordered_ops()
    sigmoids = [op.get_friendly_name() for op in ops if op.get_type_name() == "Sigmoid"]
    if not sigmoids:
        raise ProfileError("the OpenVINO model has no Sigmoid: not a YOLO detection head")
    scope = sigmoids[-1].split("/", 1)[0]
    return [
        op.get_friendly_name()
        for op in ops
        if op.get_type_name() == "Sigmoid" or op.get_friendly_name().startswith((f"{scope}/", f"{scope}.dfl"))
    ]


def quantize_openvino(
    profile_path: Path,
    images: Sequence[Path],
    out_dir: Path,
    *,
    mixed: bool = True,
    keep_head_float: bool = True,
    fast_bias_correction: bool = False,
    progress: Callable[[str], None] = print,
) -> Path:
    """Write an INT8 copy of the profile's OpenVINO model into ``out_dir``; returns its .xml.

    ``mixed``: NNCF's MIXED preset (symmetric weights, asymmetric activations; better for the
    non-negative SiLU outputs) rather than PERFORMANCE (symmetric everywhere). The full bias
    correction (``fast_bias_correction=False``, ~2x the calibration time) kept the 960-image test
    split's mAP50 within 0.001 of FP32 with 300 images, where the fast one lost 0.005
    (models/kitchen-yolo11n.md, INT8).
    """
    import nncf
    import openvino as ov

    from vision.yolo import YoloDetector

    profile = read_profile(profile_path)
    src = profile.weights_path(Backend.OPENVINO)
    xml = src if src.suffix == ".xml" else next(iter(sorted(src.glob("*.xml"))), None)
    if xml is None:
        raise ProfileError(f"{src}: no OpenVINO .xml model found")
    runtime = YoloDetector(profile, backend=Backend.OPENVINO, max_batch=1)  # its preprocess, its checks

    def transform(path: Path) -> npt.NDArray[np.float32]:
        img = cv2.imread(str(path))
        if img is None:
            raise ValueError(f"{path}: not a readable image")
        return runtime.preprocess([np.asarray(img, dtype=np.uint8)])[0]

    model = ov.Core().read_model(str(xml))
    ignored = nncf.IgnoredScope(names=head_scope(model)) if keep_head_float else None
    progress(f"calibrating on {len(images)} images ({'mixed' if mixed else 'performance'} preset)")
    quantized = nncf.quantize(
        model,
        nncf.Dataset(list(images), transform),
        preset=nncf.QuantizationPreset.MIXED if mixed else nncf.QuantizationPreset.PERFORMANCE,
        subset_size=len(images),
        fast_bias_correction=fast_bias_correction,
        ignored_scope=ignored,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    out_xml = out_dir / xml.name
    ov.save_model(quantized, str(out_xml), compress_to_fp16=False)
    _copy_metadata(xml.parent / "metadata.yaml", out_dir / "metadata.yaml", len(images))
    return out_xml


def _copy_metadata(src: Path, dst: Path, images: int) -> None:
    """The class names travel in ultralytics' metadata.yaml; note what was done to the weights."""
    if not src.exists():
        raise ProfileError(f"{src}: missing (class names of the OpenVINO model)")
    shutil.copyfile(src, dst)
    doc = yaml.safe_load(dst.read_text())
    doc["description"] = f"{doc.get('description', '')}; INT8 (NNCF post-training, {images} images)"
    doc.setdefault("args", {})["quantize"] = 8
    dst.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def int8_profile(profile: Profile, weights_dir: Path) -> dict[str, Any]:
    """The profile document for the INT8 model: same classes, kinds and thresholds, OpenVINO only.

    Its ``evaluation`` block is dropped: the FP32 numbers do not describe the INT8 model.
    """
    doc = profile.model_dump(mode="json", exclude={"evaluation", "root"}, exclude_defaults=True)
    doc["name"] = f"{profile.name}-int8"
    doc["weights"] = {Backend.OPENVINO.value: str(weights_dir)}
    doc["backend"] = Backend.OPENVINO.value
    return doc


def write_int8_profile(profile_path: Path, weights_dir: Path, out: Path | None = None) -> Path:
    """Write ``<profile>-int8.yaml`` beside the profile, pointing at ``weights_dir``."""
    profile = read_profile(profile_path)
    out = out or profile_path.with_name(f"{profile_path.stem}-int8.yaml")
    rel = Path(os.path.relpath(weights_dir.resolve(), out.resolve().parent))
    out.write_text(yaml.safe_dump(int8_profile(profile, rel), sort_keys=False, allow_unicode=True))
    return out
