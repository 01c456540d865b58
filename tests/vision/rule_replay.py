"""Rule replays: timelines of tracked subjects built from plain lists, fed to a RuleEngine."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import numpy as np

from vision.appearance import BANDS, BINS, Look
from vision.geometry import BoxXYXY
from vision.kinds import ViolationKind
from vision.rule_config import CameraRules
from vision.rules import RuleEngine
from vision.tracking import Attribute, TrackedSubject
from vision.types import EventPhase, Track, ViolationEvent

FPS = 10.0
WH = (640, 360)
PERSON_BOX = (100.0, 50.0, 160.0, 250.0)


def person(
    track_id: int,
    *attrs: str,
    box: tuple[float, float, float, float] = PERSON_BOX,
    facing: bool = True,
    look: Look | None = None,
) -> TrackedSubject:
    """A person with ``attrs``; ``facing``: the face is seen too (a masked one unless ``attrs`` has one)."""
    track = Track("cam", track_id, "person", box, 0.9, 0.0)
    head = (box[0] + 15, box[1], box[0] + 45, box[1] + 30)  # attributes sit on their own person
    if facing and not any(a.startswith("face_") for a in attrs):
        attrs = (*attrs, "face_mask")
    return TrackedSubject(track, tuple(Attribute(a, head, 0.8) for a in attrs), look=look)


def plain_look(colour_bin: int) -> Look:
    """A look with every band in one colour bin: two different bins have nothing in common."""
    look = np.zeros((len(BANDS), BINS), dtype=np.float32)
    look[:, colour_bin] = 1.0
    return look


def thing(track_id: int, cls: str) -> TrackedSubject:
    return TrackedSubject(Track("cam", track_id, cls, (300.0, 300.0, 320.0, 310.0), 0.7, 0.0))


def run(
    timeline: list[list[TrackedSubject]], rules: CameraRules | None = None, wall0: datetime | None = None
) -> list[ViolationEvent]:
    """Feed one list of subjects per frame at FPS; return every emitted event (flush at the end)."""
    engine = RuleEngine("cam", rules or CameraRules(), model_version="m1")
    out: list[ViolationEvent] = []
    for i, subjects in enumerate(timeline):
        ts = i / FPS
        wall = wall0 + timedelta(seconds=ts) if wall0 else None
        out.extend(engine.evaluate(ts, subjects, WH, wall))
    out.extend(engine.flush())
    return out


def closed(events: list[ViolationEvent], kind: ViolationKind | None = None) -> list[ViolationEvent]:
    return [e for e in events if e.phase is EventPhase.CLOSE and (kind is None or e.kind == kind)]


def frames(n: int, *subjects: TrackedSubject) -> list[list[TrackedSubject]]:
    """``n`` frames of ``subjects``; rats and cockroaches scurry 2 px to the right per frame."""
    return [[_scurry(s, 2.0 * i) for s in subjects] for i in range(n)]


def _scurry(s: TrackedSubject, dx: float) -> TrackedSubject:
    if s.track.class_name not in ("rat", "cockroach"):
        return s
    x1, y1, x2, y2 = s.track.xyxy
    return TrackedSubject(dataclasses.replace(s.track, xyxy=(x1 + dx, y1, x2 + dx, y2)), s.attributes)


def holding(track_id: int, person: BoxXYXY, label: str, held: BoxXYXY, conf: float) -> TrackedSubject:
    """A person (``person`` box) holding one small thing (a cigarette, a phone) at ``held``."""
    return TrackedSubject(Track("cam", track_id, "person", person, 0.9, 0.0), (Attribute(label, held, conf),))


def shifted(box: BoxXYXY, dx: float) -> BoxXYXY:
    """``box`` moved ``dx`` px to the right."""
    return (box[0] + dx, box[1], box[2] + dx, box[3])
