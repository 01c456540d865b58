"""Random scenarios for datasets and held-out evaluation clips, and scripted ones for samples.

``ScenarioSpec`` says what a clip must contain (violations with counts, hard negatives, night);
``build_scenario`` turns it into actors deterministically from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vision.synth.people import Look, random_look
from vision.synth.scenario import (
    Effects,
    PersonActor,
    Scenario,
    make_bin,
    make_props,
    make_rat,
    make_roach,
    person_path,
)
from vision.synth.scene import SCENE_KINDS, build_scene

DAY = "2026-11-02T10:00:00+08:00"
NIGHT = "2026-11-02T23:30:00+08:00"


@dataclass
class ScenarioSpec:
    """What one clip must contain. Counts are numbers of subjects showing the violation."""

    scene: str
    seed: int
    duration_s: float = 20.0
    fps: float = 15.0
    width: int = 640
    height: int = 360
    staff: int = 3
    no_hat: int = 0
    no_mask: int = 0
    no_uniform: int = 0
    smoking: int = 0
    phone: int = 0
    rats: int = 0
    roaches: int = 0
    open_bins: int = 0
    closed_bins: int = 1
    strangers: int = 0
    night: bool = False
    hard_negatives: bool = True
    shadows: int = 1
    light_switch: bool = False
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def build_scenario(spec: ScenarioSpec) -> Scenario:
    scene = build_scene(spec.scene, spec.seed, spec.width, spec.height)
    rng = np.random.default_rng([spec.seed, 1234, SCENE_KINDS.index(spec.scene)])
    T = spec.duration_s
    sc = Scenario(
        scene=scene, seed=spec.seed, fps=spec.fps, duration_s=T, recorded_at=NIGHT if spec.night else DAY
    )
    tid = 1
    roles: list[dict[str, object]] = []
    for _ in range(spec.staff):
        roles.append({"role": "staff"})

    # hand violations to distinct staff where possible
    def assign(key: str, n: int, value: object) -> None:
        free = [r for r in roles if r["role"] == "staff" and key not in r and len(r) <= 2]
        for r in (free or [r for r in roles if r["role"] == "staff"])[:n]:
            r[key] = value

    assign("no_hat", spec.no_hat, True)
    assign("mask", spec.no_mask, None)
    assign("street", spec.no_uniform, True)
    assign("action", spec.smoking, "smoke")
    assign("action", spec.phone, "phone")
    for _ in range(spec.strangers):
        roles.append({"role": "stranger", "street": True})
    for r in roles:
        mask = r.get("mask", "ok")
        if mask is None:
            mask = ["none", "under_nose", "chin"][int(rng.integers(3))]
        if r.get("action") == "smoke":
            mask = "chin"  # nobody smokes through a mask: it is pulled down
        look: Look = random_look(
            rng, hat=not r.get("no_hat", False), mask=str(mask), uniform=not r.get("street", False)
        )
        if spec.hard_negatives and rng.random() < 0.3 and r["role"] == "staff":
            look.holds = ["towel", "bowl", "mask"][int(rng.integers(3))]
            if look.holds == "mask" and look.mask != "ok":
                look.holds = "towel"
        actions: list[str] = []
        if r.get("action") == "smoke":
            actions = ["smoke_mouth" if rng.random() < 0.6 else "smoke_hand"]
        elif r.get("action") == "phone":
            actions = ["phone_ear" if rng.random() < 0.5 else "phone_look"]
        if r["role"] == "stranger":
            t0 = float(rng.uniform(0.5, T * 0.4))
            segs = person_path(
                rng,
                scene,
                t0,
                min(T, t0 + rng.uniform(7, 12)),
                enter=True,
                leave=True,
                restricted=not spec.night,
            )
        else:
            first_stop = float(rng.uniform(0.0, 2.0))
            segs = person_path(
                rng, scene, first_stop, T + 1, actions=actions
            )  # staff never cross a restricted door
        sc.persons.append(PersonActor(tid, str(r["role"]), look, segs))
        tid += 1
    for _ in range(spec.rats):
        t0 = float(rng.uniform(0.5, max(1.0, T * 0.5)))
        sc.pests.append(make_rat(rng, scene, tid, t0, T))
        tid += 1
    for _ in range(spec.roaches):
        t0 = float(rng.uniform(0.5, max(1.0, T * 0.4)))
        sc.pests.append(make_roach(rng, scene, tid, t0, min(T, t0 + rng.uniform(6, 14))))
        tid += 1
    spot = 0
    for _ in range(spec.open_bins):
        a = float(rng.uniform(0.0, T * 0.3))
        sc.bins.append(make_bin(rng, scene, tid, spot, [(a, min(T + 1, a + rng.uniform(9, 16)))]))
        tid += 1
        spot += 1
    for _ in range(spec.closed_bins):
        sc.bins.append(make_bin(rng, scene, tid, spot, []))
        tid += 1
        spot += 1
    if spec.hard_negatives:
        sc.props = make_props(rng, scene, int(rng.integers(3, 7)))
    sc.effects = Effects(
        night=spec.night,
        noise_sigma=float(rng.uniform(2.0, 4.5)),
        light_switches=[float(rng.uniform(T * 0.3, T * 0.6)), float(rng.uniform(T * 0.7, T * 0.9))]
        if spec.light_switch
        else [],
        shadows=spec.shadows,
        steam=bool(scene.stoves) and spec.hard_negatives,
    )
    return sc


def random_spec(
    seed: int, *, scene: str | None = None, duration_s: float = 20.0, dense: bool = False
) -> ScenarioSpec:
    """A random clip (datasets, held-out evaluation). ``dense`` packs more violations in."""
    rng = np.random.default_rng([seed, 77])
    kind = scene or SCENE_KINDS[int(rng.integers(len(SCENE_KINDS)))]
    staff = int(rng.integers(2, 7 if dense else 5))
    p = 0.45 if dense else 0.25

    def n(maxn: int) -> int:
        return int(rng.binomial(maxn, p))

    night = bool(rng.random() < (0.2 if kind == "storage" else 0.06))
    return ScenarioSpec(
        scene=kind,
        seed=seed,
        duration_s=duration_s,
        staff=staff,
        no_hat=n(2),
        no_mask=n(2),
        no_uniform=n(1),
        smoking=n(1),
        phone=n(1),
        rats=int(rng.binomial(2, 0.55 if kind == "storage" else 0.35)),
        roaches=int(rng.binomial(3, 0.45)),
        open_bins=int(rng.binomial(1, 0.5)),
        closed_bins=int(rng.binomial(1, 0.6)),
        strangers=int(rng.binomial(1, 0.2)),
        night=night,
        shadows=int(rng.integers(0, 3)),
        light_switch=bool(rng.random() < 0.2),
    )
