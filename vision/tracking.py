"""Per-camera tracking of subjects, and association of attribute boxes to people.

Subjects (people, rats, cockroaches, bins) are tracked with ByteTrack from the ``trackers``
package (roboflow's successor of ``sv.ByteTrack``, which supervision 0.27+ no longer ships). Each
camera gets its own trackers and its own id counter, so ids never collide or depend on other
cameras. One ByteTrack runs per subject group so a rat box never steals a person's track; bins
open and closed share a group so a lid lifting keeps the bin's id.

Attribute boxes (a bare head, a mask, clothes, a cigarette, a phone) are not tracked: each frame
they are assigned to the person whose box they sit in, in the right part of it (a head in the
upper part, clothes in the middle). The input ``Detections`` is never modified.

Example::

    tracker = CameraTracker("cam-1", frame_rate=15)
    subjects = tracker.update(detections, ts_s=frame.ts_s)
    for s in subjects:
        print(s.track.track_id, s.track.class_name, s.attribute_names)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import numpy.typing as npt
import supervision as sv
from trackers import ByteTrackTracker, GIoU

from vision.geometry import BoxXYXY, centre_distance, contained, share_inside
from vision.kinds import ObjectClass
from vision.types import Track

# Subject groups: classes tracked together by one ByteTrack.
SUBJECT_GROUPS: dict[str, tuple[ObjectClass, ...]] = {
    "person": (ObjectClass.PERSON,),
    "rat": (ObjectClass.RAT,),
    "cockroach": (ObjectClass.COCKROACH,),
    "bin": (ObjectClass.BIN_OPEN, ObjectClass.BIN_CLOSED),
}
PEST_GROUPS = frozenset({"rat", "cockroach"})

# Where on a person box each attribute sits: (slot, lowest and highest centre y as fractions of
# the person box height from its top, usual centre y, horizontal margin as a fraction of width).
ATTRIBUTE_PLACES: dict[ObjectClass, tuple[str, float, float, float, float]] = {
    ObjectClass.HEAD_HAT: ("head", -0.15, 0.40, 0.07, 0.10),
    ObjectClass.HEAD_BARE: ("head", -0.15, 0.40, 0.07, 0.10),
    ObjectClass.FACE_MASK: ("face", -0.05, 0.45, 0.10, 0.10),
    ObjectClass.FACE_BARE: ("face", -0.05, 0.45, 0.10, 0.10),
    ObjectClass.UNIFORM: ("torso", 0.10, 0.90, 0.40, 0.05),
    ObjectClass.STREET_CLOTHES: ("torso", 0.10, 0.90, 0.40, 0.05),
    # a cigarette may be in a hand held low: on a person whose legs a counter hides, 0.8 of the box
    ObjectClass.CIGARETTE: ("cigarette", -0.05, 0.95, 0.15, 0.35),
    ObjectClass.PHONE: ("phone", -0.05, 0.85, 0.35, 0.35),
}
FACE_CLASSES = frozenset({ObjectClass.FACE_MASK.value, ObjectClass.FACE_BARE.value})
# Attributes that take their slot whenever the detector sees them on a person, even beside a more
# confident rival: the detector reads pale street clothes as a work jacket (its commonest colour)
# far more often than the reverse (tuning set: 85 of 1,409 street-clothes torso frames read as a
# jacket, 3 of 8,983 jackets as street clothes), so its doubt counts as street clothes.
# docs/evaluation.md, "Street clothes read as a work jacket".
DOUBT_DECIDES = frozenset({ObjectClass.STREET_CLOTHES.value})
HEAD_CLASSES = frozenset({ObjectClass.HEAD_HAT.value, ObjectClass.HEAD_BARE.value})
PHONE = ObjectClass.PHONE.value
HELD_CLASSES = frozenset({PHONE, ObjectClass.CIGARETTE.value})
# A phone at head height is at the ear: at most this many head widths beside the head's box
# (the synthetic world holds it at 1.05 head radii from the head's centre, touching its side).
EAR_GAP = 0.25
# How far (in box sizes) the detection that started a track may lie from where the track is
# confirmed and still be its start (``Track.spawned``): a rat runs about a body length in 0.2 s.
SPAWN_REACH = 4.0


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute box seen on a person in one frame."""

    class_name: str
    xyxy: BoxXYXY
    confidence: float


@dataclass(frozen=True, slots=True)
class TrackedSubject:
    """A confirmed track in one frame, with the attributes associated to it in that frame."""

    track: Track
    attributes: tuple[Attribute, ...] = ()
    # A person's colour signature on this frame (``vision.appearance.Look``), when computed; an
    # array, so left out of equality and hashing
    look: npt.NDArray[np.float32] | None = field(default=None, compare=False)

    @property
    def attribute_names(self) -> frozenset[str]:
        return frozenset(a.class_name for a in self.attributes)

    def attribute(self, class_name: str) -> Attribute | None:
        for a in self.attributes:
            if a.class_name == class_name:
                return a
        return None


def _class_names(det: sv.Detections) -> npt.NDArray[np.str_]:
    names = det.data.get("class_name") if det.data else None
    if names is None:
        raise ValueError("detections need data['class_name'] (see vision.detector)")
    return np.asarray(names).astype(str)


def _confidence(det: sv.Detections) -> npt.NDArray[np.float64]:
    if det.confidence is None:
        return np.ones(len(det), dtype=np.float64)
    return np.asarray(det.confidence, dtype=np.float64)


class CameraTracker:
    """ByteTrack per subject group for one camera, plus attribute association.

    ``lost_s`` is how long a subject may go unseen and keep its id. ``start_confidence`` per
    group is the least confidence that starts a track (in ByteTrack only boxes at or above it
    start tracks; weaker ones only extend existing tracks). Pests start lower: a detector is
    rarely sure of a 10-pixel cockroach, and the rules still need it to persist.
    """

    def __init__(
        self,
        camera_id: str,
        *,
        frame_rate: float = 15.0,
        lost_s: float = 1.5,
        start_confidence: dict[str, float] | None = None,
    ) -> None:
        start = {"person": 0.4, "rat": 0.25, "cockroach": 0.25, "bin": 0.4} | (start_confidence or {})
        self.camera_id = camera_id
        self._trackers: dict[str, ByteTrackTracker] = {}
        for group in SUBJECT_GROUPS:
            self._trackers[group] = ByteTrackTracker(
                lost_track_buffer=max(1, round(lost_s * 30)),  # in 30 fps frames, see trackers docs
                frame_rate=frame_rate,
                track_activation_threshold=start[group],
                minimum_consecutive_frames=1,
                # Small fast pests often do not overlap between frames: GIoU still ranks the
                # nearest box first where IoU is zero for all of them.
                minimum_iou_threshold=-0.6 if group in PEST_GROUPS else 0.1,
                high_conf_det_threshold=start[group],
                iou=GIoU() if group in PEST_GROUPS else None,
            )
        self._ids: dict[tuple[str, int], int] = {}
        self._next_id = 1
        # Detections that started a track not confirmed yet, per group: (ts, box). ByteTrack
        # gives a new track its id on its second detection; the first is remembered here so the
        # track can say when it was first seen (``Track.spawned``).
        self._spawns: dict[str, list[tuple[float, BoxXYXY]]] = {g: [] for g in SUBJECT_GROUPS}
        self._spawn_keep_s = lost_s
        self._start = start

    def _camera_track_id(self, group: str, local_id: int) -> int:
        key = (group, local_id)
        if key not in self._ids:
            self._ids[key] = self._next_id
            self._next_id += 1
        return self._ids[key]

    def update(
        self, detections: sv.Detections, *, ts_s: float, groups: frozenset[str] | None = None
    ) -> list[TrackedSubject]:
        """Track the subjects in ``detections`` (one frame) and attach attributes to people.

        ``groups``: only these subject groups (``SUBJECT_GROUPS``) see this frame; the others'
        trackers are not stepped, as if it had not been looked at for them."""
        names = _class_names(detections) if len(detections) else np.array([], dtype=str)
        conf = _confidence(detections)
        tracks: list[Track] = []
        for group, classes in SUBJECT_GROUPS.items():
            if groups is not None and group not in groups:
                continue
            mask = np.isin(names, [c.value for c in classes])
            if mask.any() and group in PEST_GROUPS:  # people do stand one behind the other
                idx = np.flatnonzero(mask)
                mask[idx] = keep_outermost(np.asarray(detections.xyxy[idx], dtype=np.float64), conf[idx])
            subset = cast(sv.Detections, detections[mask]) if len(detections) else sv.Detections.empty()
            if len(subset) and subset.confidence is None:
                subset.confidence = conf[mask].astype(np.float32)
            tracked = self._trackers[group].update(subset, timestamp=ts_s)
            tracks.extend(self._to_tracks(group, tracked, ts_s))
            self._remember_spawns(group, tracked, ts_s)
        attributes = [
            (Attribute(str(n), _box(detections.xyxy[i]), float(conf[i])))
            for i, n in enumerate(names)
            if n in ATTRIBUTE_NAMES
        ]
        return associate(tracks, attributes)

    def _to_tracks(self, group: str, tracked: sv.Detections, ts_s: float) -> list[Track]:
        if len(tracked) == 0 or tracked.tracker_id is None:
            return []
        names = _class_names(tracked)
        conf = _confidence(tracked)
        out = []
        for i, local_id in enumerate(tracked.tracker_id):
            if int(local_id) < 0:
                continue  # not confirmed yet
            box = _box(tracked.xyxy[i])
            new = (group, int(local_id)) not in self._ids
            out.append(
                Track(
                    camera_id=self.camera_id,
                    track_id=self._camera_track_id(group, int(local_id)),
                    class_name=str(names[i]),
                    xyxy=box,
                    confidence=float(conf[i]),
                    ts_s=ts_s,
                    spawned=self._take_spawn(group, box, ts_s) if new else None,
                )
            )
        return out

    def _remember_spawns(self, group: str, tracked: sv.Detections, ts_s: float) -> None:
        """Keep this frame's detections that started a track (no id yet) for a while."""
        keep = [(t, b) for t, b in self._spawns[group] if ts_s - t <= self._spawn_keep_s]
        if len(tracked) and tracked.tracker_id is not None:
            conf = _confidence(tracked)
            for i, local_id in enumerate(tracked.tracker_id):
                if int(local_id) < 0 and conf[i] >= self._start[group]:
                    keep.append((ts_s, _box(tracked.xyxy[i])))
        self._spawns[group] = keep

    def _take_spawn(self, group: str, box: BoxXYXY, ts_s: float) -> tuple[float, BoxXYXY] | None:
        """The remembered start of a track confirmed now: the nearest earlier spawn of its group
        (ByteTrack matched the two; the nearest is the one unless two pests spawned side by side)."""
        earlier = [(t, b) for t, b in self._spawns[group] if t < ts_s]
        if not earlier:
            return None
        best = min(earlier, key=lambda spawn: centre_distance(spawn[1], box))
        size = max(box[2] - box[0], box[3] - box[1], best[1][2] - best[1][0], best[1][3] - best[1][1])
        if centre_distance(best[1], box) > SPAWN_REACH * size:
            return None  # a detection elsewhere that never became a track
        self._spawns[group].remove(best)
        return best

    def reset(self) -> None:
        """Forget every track (a new video, or the camera moved); ids keep counting up."""
        for tracker in self._trackers.values():
            tracker.tracks = []
            tracker._last_timestamp = None  # keep the local counter: old ids must not come back
        self._spawns = {g: [] for g in SUBJECT_GROUPS}


ATTRIBUTE_NAMES = frozenset(c.value for c in ATTRIBUTE_PLACES)


def keep_outermost(
    xyxy: npt.NDArray[np.floating],
    confidence: npt.NDArray[np.floating],
    inside: float = 0.6,
    margin: float = 0.1,
) -> npt.NDArray[np.bool_]:
    """Drop a box that lies mostly inside a clearly more confident box of the same group (pests).

    Detectors sometimes add a weaker box on part of an object (a cockroach's head, a person's
    upper body) that NMS keeps because their IoU is low; tracked, it would become a second
    subject and a second event.
    """
    order = np.argsort(-confidence, kind="stable")
    keep = np.ones(len(xyxy), dtype=bool)
    kept: list[int] = []
    for i in order:
        box = (float(xyxy[i][0]), float(xyxy[i][1]), float(xyxy[i][2]), float(xyxy[i][3]))
        weaker_inside = (
            share_inside(box, _box(xyxy[k])) >= inside and confidence[i] < confidence[k] - margin
            for k in kept
        )
        if any(weaker_inside):
            keep[i] = False
        else:
            kept.append(int(i))
    return keep


def _box(xyxy: Sequence[float] | npt.NDArray[np.floating]) -> BoxXYXY:
    return (float(xyxy[0]), float(xyxy[1]), float(xyxy[2]), float(xyxy[3]))


def _fit(attr: Attribute, person: BoxXYXY) -> float:
    """How well ``attr`` sits in its place on ``person``: 0 (not at all) to 1.

    Containment, horizontal centring and closeness to the usual height on the body all count:
    when two people stand one behind the other their boxes nearly coincide, and only the
    height of a head within each box tells whose it is.
    """
    _, top, bottom, usual, margin = ATTRIBUTE_PLACES[ObjectClass(attr.class_name)]
    px1, py1, px2, py2 = person
    pw, ph = max(px2 - px1, 1e-6), max(py2 - py1, 1e-6)
    ax1, ay1, ax2, ay2 = attr.xyxy
    cx, cy = (ax1 + ax2) / 2, (ay1 + ay2) / 2
    rel_y = (cy - py1) / ph
    if not (px1 - margin * pw <= cx <= px2 + margin * pw) or not (top <= rel_y <= bottom):
        return 0.0
    inside = share_inside(attr.xyxy, person)
    centred = 1.0 - min(1.0, abs(cx - (px1 + px2) / 2) / pw)
    height = 1.0 - min(1.0, abs(rel_y - usual) / 0.3)
    return 0.1 + 0.3 * inside + 0.3 * centred + 0.3 * height


def _greedy(
    pairs: list[tuple[float, int, int]],
    attributes: Sequence[Attribute],
    taken_slot: set[tuple[int, str]],
    given: dict[int, list[Attribute]],
    taken_attr: set[int],
) -> None:
    for _, ai, pi in sorted(pairs, key=lambda p: -p[0]):
        attr = attributes[ai]
        slot = ATTRIBUTE_PLACES[ObjectClass(attr.class_name)][0]
        if ai in taken_attr or (pi, slot) in taken_slot:
            continue
        if attr.class_name in HELD_CLASSES and _held_already(attr, given):
            taken_attr.add(ai)  # a second box on a phone or cigarette someone already holds
            continue
        taken_attr.add(ai)
        taken_slot.add((pi, slot))
        given.setdefault(pi, []).append(attr)


def associate(tracks: Sequence[Track], attributes: Sequence[Attribute]) -> list[TrackedSubject]:
    """Give each attribute to the person it fits best; one head, face and torso per person.

    Greedy on the fit score (best pairs first). Street clothes go first (``DOUBT_DECIDES``): a
    torso the detector also reads as street clothes, above their threshold, is judged street
    clothes even beside a more confident work jacket. Phones come after heads: one at head
    height goes only to a person whose head it touches (``_held_by``). Faces go last: a face
    inside a head box belongs to that head's person, which settles overlapping people; a face
    with no head around it falls back to the fit score.
    """
    people = [t for t in tracks if t.class_name == ObjectClass.PERSON.value]
    taken_attr: set[int] = set()
    taken_slot: set[tuple[int, str]] = set()
    given: dict[int, list[Attribute]] = {}
    doubt = [i for i, a in enumerate(attributes) if a.class_name in DOUBT_DECIDES]
    _greedy(_pairs(people, attributes, doubt), attributes, taken_slot, given, taken_attr)
    later = FACE_CLASSES | DOUBT_DECIDES | {PHONE}
    first = [i for i, a in enumerate(attributes) if a.class_name not in later]
    _greedy(_pairs(people, attributes, first), attributes, taken_slot, given, taken_attr)
    head_owner = [(a.xyxy, pi) for pi, attrs in given.items() for a in attrs if a.class_name in HEAD_CLASSES]
    head_of = {pi: box for box, pi in head_owner}
    phones = [i for i, a in enumerate(attributes) if a.class_name == PHONE]
    beside = [
        p for p in _pairs(people, attributes, phones) if _held_by(attributes[p[1]].xyxy, head_of.get(p[2]))
    ]
    _greedy(beside, attributes, taken_slot, given, taken_attr)
    faces = [i for i, a in enumerate(attributes) if a.class_name in FACE_CLASSES]
    by_head: list[tuple[float, int, int]] = []
    for ai in faces:
        for head_box, pi in head_owner:
            inside = share_inside(attributes[ai].xyxy, head_box)
            if inside >= 0.5:
                by_head.append((1.0 + inside, ai, pi))
    _greedy(by_head, attributes, taken_slot, given, taken_attr)
    _greedy(_pairs(people, attributes, faces), attributes, taken_slot, given, taken_attr)
    out = []
    for t in tracks:
        index = next((i for i, p in enumerate(people) if p is t), None)
        attrs = tuple(given.get(index, ())) if index is not None else ()
        out.append(TrackedSubject(track=t, attributes=attrs))
    return out


def _held_already(attr: Attribute, given: dict[int, list[Attribute]]) -> bool:
    """Whether most of ``attr`` or of a given box of its class lies in the other: the same
    object seen twice (the crop stage's box beside the full frame's), not a second one. Before,
    the looser copy went to a neighbour whose head it touched (fresh set 3, heldout_162)."""
    return any(
        a.class_name == attr.class_name and contained(a.xyxy, attr.xyxy) >= 0.5
        for held in given.values()
        for a in held
    )


def _held_by(phone: BoxXYXY, head: BoxXYXY | None) -> bool:
    """Whether a phone can be held by the person with this head: one at head height is at their
    ear, so it touches the head's side (within a quarter of its width); lower down it is in a
    hand in front of them. Without this, a phone at the ear of someone the detector missed went
    to the neighbour whose box corner it lay in (fresh set 3: two of four phone false alarms).
    """
    if head is None:
        return True  # their head is not seen: nothing to check against
    hx1, _, hx2, hy2 = head
    if (phone[1] + phone[3]) / 2 > hy2:
        return True
    gap = max(hx1 - phone[2], phone[0] - hx2, 0.0)
    return gap <= EAR_GAP * (hx2 - hx1)


def _pairs(
    people: Sequence[Track], attributes: Sequence[Attribute], which: Sequence[int]
) -> list[tuple[float, int, int]]:
    pairs = []
    for ai in which:
        attr = attributes[ai]
        for pi, person in enumerate(people):
            score = _fit(attr, person.xyxy)
            if score > 0:
                pairs.append((score * (0.5 + 0.5 * attr.confidence), ai, pi))
    return pairs
