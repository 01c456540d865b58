"""What holds on one frame: a tracked subject's observations, one per kind it can be judged on.

The rule engine (``vision.rules``) turns these into events; here is only what each detected
class means for a subject on one frame: a bare head means ``no_hat`` holds, a hat that it does
not; a rat is itself the violation; a cigarette or phone on a visible person holds, their
absence on a visible person does not; a person in a restricted zone or after hours is a
stranger. A condition that cannot be seen (no head box: hat unknown) is left out.

Example::

    for obs in observe(subject, CameraRules(), (640, 360), wall=None):
        print(obs.kind, obs.holds)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vision.geometry import BoxXYXY, point_in_polygon
from vision.kinds import ObjectClass, ViolationKind
from vision.rule_config import CameraRules, Zone
from vision.tracking import FACE_CLASSES, TrackedSubject

# attribute class present -> (kind, holds?)
ATTRIBUTE_RULES: dict[str, tuple[ViolationKind, bool]] = {
    ObjectClass.HEAD_BARE.value: (ViolationKind.NO_HAT, True),
    ObjectClass.HEAD_HAT.value: (ViolationKind.NO_HAT, False),
    ObjectClass.FACE_BARE.value: (ViolationKind.NO_MASK, True),
    ObjectClass.FACE_MASK.value: (ViolationKind.NO_MASK, False),
    ObjectClass.STREET_CLOTHES.value: (ViolationKind.NO_UNIFORM, True),
    ObjectClass.UNIFORM.value: (ViolationKind.NO_UNIFORM, False),
}
# subject class -> (kind, holds?)
SUBJECT_RULES: dict[str, tuple[ViolationKind, bool]] = {
    ObjectClass.RAT.value: (ViolationKind.RODENT, True),
    ObjectClass.COCKROACH.value: (ViolationKind.COCKROACH, True),
    ObjectClass.BIN_OPEN.value: (ViolationKind.OPEN_BIN, True),
    ObjectClass.BIN_CLOSED.value: (ViolationKind.OPEN_BIN, False),
}
# objects whose mere presence on a visible person is the violation
HELD_OBJECT_RULES: dict[str, ViolationKind] = {
    ObjectClass.CIGARETTE.value: ViolationKind.SMOKING,
    ObjectClass.PHONE.value: ViolationKind.PHONE,
}


@dataclass(frozen=True, slots=True)
class Observation:
    """Whether a kind's condition holds for one subject on one frame, and the boxes showing it."""

    kind: ViolationKind
    track_id: int
    holds: bool
    confidence: float
    subject_xyxy: BoxXYXY
    evidence_xyxy: BoxXYXY
    facing: bool = True  # the subject's face was seen on this frame (people); pests and bins: True
    # The track's first confirmed frame: when and where its first detection was (``Track.spawned``)
    spawned: tuple[float, BoxXYXY] | None = None


def feet_in_zone(box: BoxXYXY, frame_wh: tuple[int, int], zones: Sequence[Zone]) -> bool:
    """Whether the bottom-centre of a person box (where the feet are) is in a restricted zone."""
    w, h = frame_wh
    fx, fy = (box[0] + box[2]) / 2 / w, box[3] / h
    return any(z.restricted and point_in_polygon(fx, fy, z.polygon) for z in zones)


def observe(
    subject: TrackedSubject, rules: CameraRules, frame_wh: tuple[int, int], wall: datetime | None
) -> list[Observation]:
    """Every condition that can be judged on this subject in this frame (unknowns are left out)."""
    t = subject.track
    out: list[Observation] = []

    facing = t.class_name != ObjectClass.PERSON.value or any(
        a.class_name in FACE_CLASSES for a in subject.attributes
    )

    def add(kind: ViolationKind, holds: bool, conf: float, evidence: BoxXYXY) -> None:
        if rules.params(kind).enabled:
            out.append(Observation(kind, t.track_id, holds, conf, t.xyxy, evidence, facing, t.spawned))

    if t.class_name in SUBJECT_RULES:
        kind, holds = SUBJECT_RULES[t.class_name]
        add(kind, holds, t.confidence, t.xyxy)
        return out
    if t.class_name != ObjectClass.PERSON.value:
        return out
    for attr in subject.attributes:
        if attr.class_name in ATTRIBUTE_RULES:
            kind, holds = ATTRIBUTE_RULES[attr.class_name]
            add(kind, holds, attr.confidence, attr.xyxy)
    for cls, kind in HELD_OBJECT_RULES.items():
        held = subject.attribute(cls)
        add(kind, held is not None, held.confidence if held else t.confidence, held.xyxy if held else t.xyxy)
    off_hours = wall is not None and not rules.working_hours.contains(wall.time())
    stranger = off_hours or feet_in_zone(t.xyxy, frame_wh, rules.zones)
    add(ViolationKind.STRANGER, stranger, t.confidence, t.xyxy)
    return out
