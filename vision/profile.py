"""Model profiles: which weights, at what input size, with which classes, mapped to which kinds.

A profile (``models/<name>.yaml``) is what makes any YOLO detection model pluggable: the weights
per backend, the input size, the class names the rest of the system will see, the map from
classes to violation kinds, per-class confidence thresholds and the model's evaluation numbers.
Loading the weights (``vision.yolo.load_profile``) checks the profile's class list against the
model's own, so a profile written for another model fails loudly instead of silently mislabelling.

Example::

    profile = read_profile(Path("models/kitchen-yolo11n.yaml"))
    profile.weights_path(profile.backend)   # models/kitchen-yolo11n_openvino_model
    profile.threshold("cigarette")          # 0.2
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vision.kinds import ViolationKind


class Backend(StrEnum):
    PYTORCH = "pytorch"
    ONNX = "onnx"
    OPENVINO = "openvino"


class ProfileError(ValueError):
    """A profile that cannot be used: bad yaml, bad fields, or not matching its model."""


class InputSize(BaseModel):
    """Network input in pixels; frames are letterboxed into it (stride 32 for YOLO)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    height: int = Field(gt=0, le=4096, multiple_of=32)
    width: int = Field(gt=0, le=4096, multiple_of=32)


class Evaluation(BaseModel):
    """Numbers measured for this model, copied into the profile so a reviewer sees them beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: str = Field(description="what it was evaluated on")
    images: int = Field(ge=0)
    map50: float = Field(ge=0.0, le=1.0)
    map50_95: float = Field(ge=0.0, le=1.0)
    per_class_map50: dict[str, float] = Field(default_factory=dict)
    hard_negative_fp_per_100_frames: dict[str, float] = Field(default_factory=dict)
    ms_per_frame: dict[str, float] = Field(default_factory=dict)


class Refine(BaseModel):
    """Second stage (``vision.refine``): a crop model looks again at each detected person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = Field(min_length=1, description="the crop model's profile, relative to this file")
    classes: list[str] = Field(min_length=1, description="classes the crop model decides")
    subject: str = "person"
    min_subject_confidence: float = Field(default=0.4, gt=0.0, lt=1.0)
    max_subjects: int = Field(
        default=8, gt=0, le=64, description="persons cropped per frame, most confident first"
    )
    keep_base: bool = Field(
        default=True, description="merge the full-frame boxes of these classes with the crops'"
    )
    every: int = Field(
        default=1,
        ge=1,
        le=10,
        description="crop on every Nth detection of each camera (1: every one); images with no "
        "camera (evaluation on still images) are always cropped",
    )


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=64)
    weights: dict[Backend, str] = Field(min_length=1, description="paths relative to the profile file")
    backend: Backend = Field(description="default backend (the fastest on CPU)")
    input_size: InputSize
    class_names: list[str] = Field(min_length=1)
    class_to_kind: dict[str, ViolationKind] = Field(default_factory=dict)
    default_confidence: float = Field(default=0.25, gt=0.0, lt=1.0)
    confidence: dict[str, float] = Field(default_factory=dict, description="per-class thresholds")
    nms_iou: float = Field(default=0.6, gt=0.0, le=1.0)
    max_detections: int = Field(default=300, gt=0)
    evaluation: Evaluation | None = None
    refine: Refine | None = None
    root: Path = Field(default=Path("."), exclude=True, description="directory of the profile file")

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if len(set(self.class_names)) != len(self.class_names):
            raise ValueError("class_names has duplicates")
        known = set(self.class_names)
        for field, names in (("class_to_kind", self.class_to_kind), ("confidence", self.confidence)):
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"{field} names classes that are not in class_names: {unknown}")
        bad = {k: v for k, v in self.confidence.items() if not 0.0 < v < 1.0}
        if bad:
            raise ValueError(f"confidence thresholds must be in (0, 1): {bad}")
        if self.refine is not None:
            unknown = sorted(set(self.refine.classes) - known) + (
                [self.refine.subject] if self.refine.subject not in known else []
            )
            if unknown:
                raise ValueError(f"refine names classes that are not in class_names: {unknown}")
        if self.backend not in self.weights:
            raise ValueError(f"default backend {self.backend.value!r} has no entry in weights")
        return self

    @property
    def model_version(self) -> str:
        return f"{self.name}@{self.version}"

    def weights_path(self, backend: Backend) -> Path:
        if backend not in self.weights:
            raise ProfileError(f"profile {self.name!r} has no weights for backend {backend.value!r}")
        return self.root / self.weights[backend]

    def with_confidence(self, confidence: float) -> Profile:
        """The same profile with one threshold for every class (evaluation keeps weak boxes)."""
        return self.model_copy(update={"confidence": {}, "default_confidence": confidence})

    def threshold(self, class_name: str) -> float:
        return self.confidence.get(class_name, self.default_confidence)

    def kind_of(self, class_name: str) -> ViolationKind | None:
        return self.class_to_kind.get(class_name)


def read_profile(path: Path) -> Profile:
    """Parse and validate a profile yaml; every failure is a ``ProfileError`` naming the file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ProfileError(f"{path}: cannot read model profile ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise ProfileError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(doc, dict):
        raise ProfileError(f"{path}: a model profile must be a mapping")
    try:
        return Profile.model_validate({**doc, "root": path.resolve().parent})
    except ValidationError as e:
        raise ProfileError(f"{path}: invalid model profile:\n{e}") from e


def check_class_names(profile: Profile, model_names: Sequence[str], source: str) -> None:
    """Refuse a profile whose class list is not exactly the model's (same names, same order)."""
    mine, theirs = list(profile.class_names), list(model_names)
    if mine == theirs:
        return
    lines = [f"model profile {profile.name!r} does not match the classes of {source}:"]
    if len(mine) != len(theirs):
        lines.append(f"  the profile lists {len(mine)} classes, the model has {len(theirs)}")
    for i in range(max(len(mine), len(theirs))):
        a = mine[i] if i < len(mine) else "<none>"
        b = theirs[i] if i < len(theirs) else "<none>"
        if a != b:
            lines.append(f"  class {i}: profile says {a!r}, model says {b!r}")
    lines.append("  fix class_names (and class_to_kind/confidence) in the profile, or use the right weights")
    raise ProfileError("\n".join(lines))
