"""The sample set: short clips with ground truth that make every test and demo reproducible.

``SAMPLES`` is the catalog; ``build_samples`` renders it into ``sample_videos/`` and checks that
each clip really contains the kinds it promises (and clean clips contain none), and
``summarize_sample_set`` prints the table used by ``make demo`` and ``sample_videos/README.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vision.synth.generate import ScenarioSpec, build_scenario
from vision.synth.groundtruth import load_ground_truth, validate_ground_truth
from vision.synth.video import render_video

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "sample_videos"


@dataclass(frozen=True)
class Sample:
    name: str
    spec: ScenarioSpec
    expect: tuple[str, ...]  # kinds that must be in the ground truth; () for a clean clip
    about: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def _s(scene: str, seed: int, **kw: object) -> ScenarioSpec:
    return ScenarioSpec(scene=scene, seed=seed, **kw)  # type: ignore[arg-type]


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "canteen_no_hat",
        _s("canteen", 11, staff=3, no_hat=1),
        ("no_hat",),
        "a server without a hat on the serving line",
    ),
    Sample(
        "canteen_no_mask",
        _s("canteen", 12, staff=3, no_mask=2),
        ("no_mask",),
        "masks under the nose / on the chin / missing",
    ),
    Sample(
        "hot_kitchen_smoking",
        _s("hot_kitchen", 13, staff=3, smoking=1, duration_s=22.0),
        ("smoking",),
        "a cook smoking at the stoves",
    ),
    Sample(
        "hot_kitchen_phone_clothes",
        _s("hot_kitchen", 14, staff=3, phone=1, no_uniform=1),
        ("phone", "no_uniform"),
        "phone use; street clothes",
    ),
    Sample(
        "wash_area_bin_roaches",
        _s("wash_area", 15, staff=2, open_bins=1, roaches=2),
        ("open_bin", "cockroach"),
        "an open bin; cockroaches on the counter",
    ),
    Sample(
        "storage_rat_day",
        _s("storage", 16, staff=2, rats=1, roaches=1),
        ("rodent",),
        "a rat along the wall in daylight",
    ),
    Sample(
        "storage_night",
        _s("storage", 17, staff=0, rats=2, roaches=1, strangers=1, night=True, duration_s=24.0),
        ("rodent", "cockroach", "stranger"),
        "night, infrared-like grey: rats, a cockroach, an intruder after hours",
        ("night",),
    ),
    Sample(
        "canteen_stranger",
        _s("canteen", 18, staff=2, strangers=1, duration_s=22.0),
        ("stranger",),
        "a person in street clothes walks into the staff-only area",
    ),
    Sample(
        "wash_area_mixed",
        _s("wash_area", 19, staff=3, no_hat=1, phone=1, open_bins=1, duration_s=24.0),
        ("no_hat", "phone", "open_bin"),
        "several at once",
    ),
    Sample(
        "hot_kitchen_mixed",
        _s("hot_kitchen", 20, staff=4, no_mask=1, no_uniform=1, smoking=1, rats=1, duration_s=24.0),
        ("no_mask", "no_uniform", "smoking", "rodent"),
        "several at once, with steam",
    ),
    Sample(
        "clean_canteen",
        _s("canteen", 21, staff=4, light_switch=True, shadows=2),
        (),
        "hard negatives: bowls, towels, a phone on the counter, lights switching",
        ("clean",),
    ),
    Sample(
        "clean_hot_kitchen",
        _s("hot_kitchen", 22, staff=3, shadows=2),
        (),
        "hard negatives: steam, flames, moving shadows",
        ("clean",),
    ),
    Sample(
        "clean_wash_area",
        _s("wash_area", 23, staff=3, closed_bins=2),
        (),
        "hard negatives: white plates, closed bins, masks in hands",
        ("clean",),
    ),
    Sample(
        "clean_storage",
        _s("storage", 24, staff=2, closed_bins=1, shadows=2, light_switch=True),
        (),
        "hard negatives: dim light, shadows, lights switching",
        ("clean",),
    ),
)


def sample_by_name(name: str) -> Sample:
    for s in SAMPLES:
        if s.name == name:
            return s
    raise KeyError(f"no sample named {name!r}")


def check_sample(sample: Sample, doc: dict[str, Any]) -> list[str]:
    kinds = {e["kind"] for e in doc["events"]}
    problems = [
        f"{sample.name}: expected a {k} event, ground truth has none" for k in sample.expect if k not in kinds
    ]
    if not sample.expect and kinds:
        problems.append(f"{sample.name}: a clean clip must have no events, has {sorted(kinds)}")
    return problems


def build_samples(
    out: Path = SAMPLE_DIR, names: list[str] | None = None, progress: Callable[[str], None] | None = None
) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for s in SAMPLES:
        if names and s.name not in names:
            continue
        doc = render_video(build_scenario(s.spec), out / f"{s.name}.mp4", camera_id=f"sample-{s.name}")
        problems += check_sample(s, doc)
        if progress:
            progress(s.name)
    (out / "README.md").write_text(readme_table(out), encoding="utf-8")
    return problems


HELDOUT_SEED_BASE = 900_000  # never used by the sample set (< 1000) or the dataset splits


TUNING_SEED_BASE = 800_000  # rule tuning only: never the held-out, sample or dataset seeds
FORCED_FROM = 100  # tuning clips from this index on have a smoker and a phone user forced in


def _render_random(
    out: Path,
    prefix: str,
    seed_base: int,
    indices: list[int],
    duration_s: float,
    forced_from: int | None = None,
) -> list[Path]:
    """One dense random clip per index (seed ``seed_base + i``, scene kinds in turn), named
    ``<prefix>_<i>_<scene>.mp4``; from ``forced_from`` on, a smoker and a phone user are forced in."""
    import dataclasses

    from vision.synth.generate import random_spec
    from vision.synth.scene import SCENE_KINDS

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in indices:
        spec = random_spec(
            seed_base + i, scene=SCENE_KINDS[i % len(SCENE_KINDS)], duration_s=duration_s, dense=True
        )
        if forced_from is not None and i >= forced_from:
            spec = dataclasses.replace(spec, smoking=1, phone=1)
        path = out / f"{prefix}_{i:03d}_{spec.scene}.mp4"
        render_video(build_scenario(spec), path, camera_id=f"{prefix}-{i:03d}")
        paths.append(path)
    return paths


def build_heldout(out: Path, clips: int = 10, duration_s: float = 20.0, *, first: int = 0) -> list[Path]:
    """Random clips over every scene kind from held-out seeds (event-level evaluation); clip
    ``i`` is the same whatever ``first`` and ``clips`` select (``first`` renders a fresh set)."""
    return _render_random(out, "heldout", HELDOUT_SEED_BASE, list(range(first, first + clips)), duration_s)


def build_tuning(
    out: Path, clips: int = 20, forced: int = 12, duration_s: float = 20.0, *, first: int = 0
) -> list[Path]:
    """The rule-tuning set: ``clips`` random clips (seeds 800,000 + ``first``...) and ``forced``
    more (seeds 800,100+) with one smoker and one phone user forced in, the rarest kinds. Rule
    parameters are chosen on this set and then measured on the held-out set (``build_heldout``)."""
    if first + clips > FORCED_FROM:
        raise ValueError(f"random tuning clips stop before index {FORCED_FROM} (the forced ones)")
    indices = [*range(first, first + clips), *range(FORCED_FROM, FORCED_FROM + forced)]
    return _render_random(out, "tune", TUNING_SEED_BASE, indices, duration_s, forced_from=FORCED_FROM)


def readme_table(folder: Path = SAMPLE_DIR) -> str:
    lines = [
        "# Sample videos",
        "",
        "Rendered by `brightkitchen synth samples` from the synthetic kitchen world (`vision/synth/`).",
        "Each `NAME.mp4` (640x360, 15 fps, H.264 yuv420p, faststart) has `NAME.json` beside it:",
        "per-frame boxes and the violation events, schema in [SCHEMA.md](SCHEMA.md).",
        "Same seed, same bytes of ground truth.",
        "",
        "| clip | scene | seconds | kinds (events) | events | what happens |",
        "|---|---|---|---|---|---|",
    ]
    for s in SAMPLES:
        gt = folder / f"{s.name}.json"
        if not gt.exists():
            continue
        doc = load_ground_truth(gt)
        c = Counter(e["kind"] for e in doc["events"])
        kinds = ", ".join(f"{k} ({n})" for k, n in sorted(c.items())) or "none (hard negatives only)"
        night = " (night)" if doc["scene"]["night"] else ""
        lines.append(
            f"| `{s.name}.mp4` | {doc['scene']['kind']}{night} | {doc['video']['duration_s']:.0f} "
            f"| {kinds} | {len(doc['events'])} | {s.about} |"
        )
    return "\n".join(lines) + "\n"


def summarize_sample_set(folder: Path = SAMPLE_DIR) -> str:
    """Validate every clip's ground truth and summarise the set (``make demo`` prints this)."""
    clips = sorted(folder.glob("*.mp4"))
    if not clips:
        return f"no sample clips in {folder}: run `brightkitchen synth samples`"
    total: Counter[str] = Counter()
    rows = []
    seconds = 0.0
    size = 0
    for mp4 in clips:
        doc = load_ground_truth(mp4.with_suffix(".json"))
        validate_ground_truth(doc)
        c = Counter(e["kind"] for e in doc["events"])
        total.update(c)
        seconds += doc["video"]["duration_s"]
        size += mp4.stat().st_size
        rows.append(
            f"  {mp4.stem:<28} {doc['scene']['kind']:<12} {doc['video']['duration_s']:5.1f}s  "
            f"{', '.join(f'{k}×{n}' for k, n in sorted(c.items())) or 'clean'}"
        )
    head = f"Sample set: {len(clips)} clips, {seconds:.0f} s, {size / 1e6:.1f} MB, ground truth valid"
    kinds = "Events by kind: " + json.dumps(dict(sorted(total.items())), ensure_ascii=False)
    return "\n".join([head, *rows, kinds])
