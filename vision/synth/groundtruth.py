"""Ground truth: per-frame boxes and the violation events the documented rules derive from them."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from vision.kinds import CLASS_NAMES, DEFAULT_SEVERITY, ObjectClass, ViolationKind
from vision.observe import feet_in_zone
from vision.rule_config import CameraRules
from vision.synth.render import GTObject
from vision.synth.scenario import Scenario

SCHEMA_ID = "brightkitchen-gt/1"
SCHEMA_PATH = Path(__file__).with_name("gt_schema.json")

# The box whose presence on a subject means the violation holds on that frame.
DECIDING_CLASS: dict[ObjectClass, ViolationKind] = {
    ObjectClass.HEAD_BARE: ViolationKind.NO_HAT,
    ObjectClass.FACE_BARE: ViolationKind.NO_MASK,
    ObjectClass.STREET_CLOTHES: ViolationKind.NO_UNIFORM,
    ObjectClass.CIGARETTE: ViolationKind.SMOKING,
    ObjectClass.PHONE: ViolationKind.PHONE,
    ObjectClass.RAT: ViolationKind.RODENT,
    ObjectClass.COCKROACH: ViolationKind.COCKROACH,
    ObjectClass.BIN_OPEN: ViolationKind.OPEN_BIN,
}


@dataclass(frozen=True)
class GTEvent:
    kind: ViolationKind
    track_id: int
    start_s: float
    end_s: float

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "track_id": self.track_id,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "severity": DEFAULT_SEVERITY[self.kind].value,
        }


def camera_rules(sc: Scenario) -> CameraRules:
    return CameraRules(zones=list(sc.scene.zones))


def frame_conditions(
    objects: list[GTObject], rules: CameraRules, wall: datetime, width: int, height: int
) -> set[tuple[ViolationKind, int]]:
    """Which (kind, subject) conditions hold on one frame, from its boxes alone."""
    held: set[tuple[ViolationKind, int]] = set()
    after_hours = not rules.working_hours.contains(wall.timetz().replace(tzinfo=None))
    for o in objects:
        kind = DECIDING_CLASS.get(o.cls)
        if kind is not None:
            held.add((kind, o.track_id))
        if o.cls is ObjectClass.PERSON:
            # the same zone test the rule engine applies: the box's bottom centre, where the feet are
            if after_hours or feet_in_zone(o.xyxy, (width, height), rules.zones):
                held.add((ViolationKind.STRANGER, o.track_id))
    return held


def derive_events(
    per_frame: list[set[tuple[ViolationKind, int]]], fps: float, rules: CameraRules
) -> list[GTEvent]:
    """Runs of a condition, merged across gaps shorter than ``grace_s``, kept if ≥ ``min_duration_s``."""
    frames_of: dict[tuple[ViolationKind, int], list[int]] = defaultdict(list)
    for i, held in enumerate(per_frame):
        for key in held:
            frames_of[key].append(i)
    events: list[GTEvent] = []
    for (kind, tid), idx in sorted(frames_of.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        p = rules.params(kind)
        runs: list[list[int]] = []
        for i in idx:
            if runs and (i - runs[-1][1]) / fps <= p.grace_s:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        for a, b in runs:
            if (b - a) / fps + 1.0 / fps >= p.min_duration_s:
                events.append(GTEvent(kind, tid, a / fps, b / fps))
    events.sort(key=lambda e: (e.start_s, e.kind.value, e.track_id))
    return events


def ground_truth_doc(
    sc: Scenario, video_file: str, frames: list[list[GTObject]], camera_id: str
) -> dict[str, Any]:
    rules = camera_rules(sc)
    W, H = sc.scene.width, sc.scene.height
    start = datetime.fromisoformat(sc.recorded_at)
    conds = [
        frame_conditions(objs, rules, start + timedelta(seconds=i / sc.fps), W, H)
        for i, objs in enumerate(frames)
    ]
    events = derive_events(conds, sc.fps, rules)
    tracks = [{"track_id": p.track_id, "class": "person", "role": p.role} for p in sc.persons]
    tracks += [{"track_id": p.track_id, "class": p.kind, "role": "pest"} for p in sc.pests]
    tracks += [{"track_id": b.track_id, "class": "bin", "role": "bin"} for b in sc.bins]
    return {
        "schema": SCHEMA_ID,
        "video": {
            "file": video_file,
            "width": W,
            "height": H,
            "fps": sc.fps,
            "frames": len(frames),
            "duration_s": round(len(frames) / sc.fps, 3),
        },
        "scene": {"kind": sc.scene.kind, "seed": sc.seed, "night": sc.effects.night},
        "camera": {
            "camera_id": camera_id,
            "recorded_at": sc.recorded_at,
            "rules": json.loads(rules.model_dump_json(exclude={"overrides"})),
        },
        "classes": list(CLASS_NAMES),
        "tracks": tracks,
        "frames": [
            {
                "index": i,
                "t_s": round(i / sc.fps, 4),
                "objects": [
                    {"track_id": o.track_id, "class": o.cls.value, "xyxy": [round(v, 1) for v in o.xyxy]}
                    for o in objs
                ],
            }
            for i, objs in enumerate(frames)
        ],
        "events": [e.as_json() for e in events],
    }


def dump_json(doc: dict[str, Any], path: Path) -> None:
    """Stable, compact JSON: the same doc always gives the same bytes."""
    path.write_text(
        json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8"
    )


def load_ground_truth(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("schema") != SCHEMA_ID:
        raise ValueError(f"{path}: not a {SCHEMA_ID} ground-truth file")
    return doc


def validate_ground_truth(doc: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.validate(doc, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
