"""Violation kinds, severities and the detector's class vocabulary.

The table mirrors ``../shared/DESIGN.md`` (分级分色: red = immediate, orange = deadline,
yellow = routine). Every layer names kinds and classes through these enums, never bare strings.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"


class ViolationKind(StrEnum):
    NO_HAT = "no_hat"
    NO_MASK = "no_mask"
    NO_UNIFORM = "no_uniform"
    SMOKING = "smoking"
    PHONE = "phone"
    RODENT = "rodent"
    COCKROACH = "cockroach"
    OPEN_BIN = "open_bin"
    STRANGER = "stranger"
    CAMERA_OFFLINE = "camera_offline"
    CAMERA_TAMPERED = "camera_tampered"


DEFAULT_SEVERITY: dict[ViolationKind, Severity] = {
    ViolationKind.NO_HAT: Severity.ORANGE,
    ViolationKind.NO_MASK: Severity.ORANGE,
    ViolationKind.NO_UNIFORM: Severity.YELLOW,
    ViolationKind.SMOKING: Severity.RED,
    ViolationKind.PHONE: Severity.YELLOW,
    ViolationKind.RODENT: Severity.RED,
    ViolationKind.COCKROACH: Severity.RED,
    ViolationKind.OPEN_BIN: Severity.YELLOW,
    ViolationKind.STRANGER: Severity.ORANGE,
    ViolationKind.CAMERA_OFFLINE: Severity.ORANGE,  # red inside working hours
    ViolationKind.CAMERA_TAMPERED: Severity.RED,
}

KIND_ZH: dict[ViolationKind, str] = {
    ViolationKind.NO_HAT: "未戴帽",
    ViolationKind.NO_MASK: "未戴口罩",
    ViolationKind.NO_UNIFORM: "未穿工作服",
    ViolationKind.SMOKING: "吸烟",
    ViolationKind.PHONE: "玩手机",
    ViolationKind.RODENT: "鼠患",
    ViolationKind.COCKROACH: "蟑螂",
    ViolationKind.OPEN_BIN: "垃圾桶未盖",
    ViolationKind.STRANGER: "陌生人闯入",
    ViolationKind.CAMERA_OFFLINE: "视频离线",
    ViolationKind.CAMERA_TAMPERED: "镜头遮挡/移位",
}

# Kinds a detector + rules can produce from pixels (camera health comes from the stream layer).
VISUAL_KINDS: tuple[ViolationKind, ...] = (
    ViolationKind.NO_HAT,
    ViolationKind.NO_MASK,
    ViolationKind.NO_UNIFORM,
    ViolationKind.SMOKING,
    ViolationKind.PHONE,
    ViolationKind.RODENT,
    ViolationKind.COCKROACH,
    ViolationKind.OPEN_BIN,
    ViolationKind.STRANGER,
)


class ObjectClass(StrEnum):
    """Detector classes: objects whose presence or absence decides a violation.

    Head and face carry their attribute in the class (``head_hat`` / ``head_bare``,
    ``face_mask`` / ``face_bare``) so one box answers "is there a head, and is it covered".
    A face turned away is not labelled at all: mask state unknown, never a violation.
    A mask worn under the nose or on the chin is ``face_bare``. A phone lying on a counter
    and a mask held in a hand are not labelled (hard negatives).
    """

    PERSON = "person"
    HEAD_HAT = "head_hat"
    HEAD_BARE = "head_bare"
    FACE_MASK = "face_mask"
    FACE_BARE = "face_bare"
    UNIFORM = "uniform"
    STREET_CLOTHES = "street_clothes"
    CIGARETTE = "cigarette"
    PHONE = "phone"
    RAT = "rat"
    COCKROACH = "cockroach"
    BIN_OPEN = "bin_open"
    BIN_CLOSED = "bin_closed"


CLASS_NAMES: tuple[str, ...] = tuple(c.value for c in ObjectClass)
CLASS_ID: dict[ObjectClass, int] = {c: i for i, c in enumerate(ObjectClass)}
