"""MotionGate on frames built here: a small dark blob on noisy grey must open the gate; noise must not."""

from __future__ import annotations

import numpy as np
import pytest

from vision.motion import GateReason, MotionGate
from vision.rule_config import Zone
from vision.types import Frame

H, W = 360, 640


def noisy_grey(rng: np.random.Generator, level: int, sigma: float) -> np.ndarray:
    base = np.full((H, W, 3), level, dtype=np.float32)
    base += rng.normal(0.0, sigma, size=(H, W, 1))
    return np.clip(base, 0, 255).astype(np.uint8)


def with_blob(img: np.ndarray, x: int, y: int, w: int, h: int, bgr: tuple[int, int, int]) -> np.ndarray:
    out = img.copy()
    out[y : y + h, x : x + w] = bgr
    return out


def run(gate: MotionGate, images: list[np.ndarray], fps: float = 15.0, tracking: bool = False) -> list:
    return [gate.check(Frame("cam", i / fps, im, i), tracking=tracking) for i, im in enumerate(images)]


@pytest.mark.parametrize(
    ("level", "sigma", "blob_bgr"),
    [
        (40, 3.0, (20, 28, 38)),  # night: dark grey, strong noise, dark-brown cockroach
        (120, 2.0, (40, 60, 90)),  # day: brown cockroach on a mid-grey floor
        (35, 2.5, (55, 55, 60)),  # rat slightly lighter than a dark night floor
    ],
)
def test_small_low_contrast_blob_moving_is_seen(level: int, sigma: float, blob_bgr: tuple) -> None:
    rng = np.random.default_rng(1)
    warmup = [noisy_grey(rng, level, sigma) for _ in range(10)]
    moving = [with_blob(noisy_grey(rng, level, sigma), 300 + 2 * i, 200, 8, 5, blob_bgr) for i in range(10)]
    gate = MotionGate(recheck_s=100.0)
    decisions = run(gate, warmup + moving)
    quiet, active = decisions[1:10], decisions[10:]
    assert all(d.reason is GateReason.QUIET for d in quiet), [d.reason for d in quiet]
    assert all(d.run_detector and d.reason is GateReason.MOTION for d in active)
    # a motion box sits on the blob's last position (x 318..326, y 200..205); its trail may add one
    assert any(x1 <= 318 and x2 >= 326 and y1 <= 200 and y2 >= 205 for x1, y1, x2, y2 in active[-1].boxes)
    assert len(active[-1].boxes) <= 2


def test_pure_noise_stays_quiet_and_rechecks_periodically() -> None:
    rng = np.random.default_rng(2)
    frames = [noisy_grey(rng, 50, 4.0) for _ in range(45)]  # 3 s at 15 fps
    decisions = run(MotionGate(recheck_s=1.0), frames)
    reasons = [d.reason for d in decisions]
    assert reasons[0] is GateReason.FIRST
    assert GateReason.MOTION not in reasons
    rechecks = [i for i, r in enumerate(reasons) if r is GateReason.RECHECK]
    assert rechecks == [15, 30]


def test_tracking_keeps_detector_running_without_motion() -> None:
    rng = np.random.default_rng(3)
    frames = [noisy_grey(rng, 100, 1.0) for _ in range(5)]
    decisions = run(MotionGate(recheck_s=100.0), frames, tracking=True)
    assert [d.reason for d in decisions[1:]] == [GateReason.TRACKING] * 4


def test_ignore_zone_masks_a_flickering_screen() -> None:
    rng = np.random.default_rng(4)
    screen = Zone(name="tv", polygon=[(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)], ignore_motion=True)
    frames = []
    for i in range(12):
        img = noisy_grey(rng, 90, 1.5)
        img[10:90, 10:170] = 40 if i % 2 else 220  # a screen flashing
        frames.append(img)
    masked = run(MotionGate(zones=[screen], recheck_s=100.0), frames)
    unmasked = run(MotionGate(recheck_s=100.0), frames)
    assert all(d.reason is GateReason.QUIET for d in masked[1:])
    assert all(d.reason is GateReason.MOTION for d in unmasked[1:])


def test_global_light_change_settles() -> None:
    rng = np.random.default_rng(5)
    frames = [noisy_grey(rng, 60, 2.0) for _ in range(5)] + [noisy_grey(rng, 140, 2.0) for _ in range(30)]
    decisions = run(MotionGate(recheck_s=100.0), frames)
    assert decisions[5].reason is GateReason.MOTION
    assert all(d.reason is GateReason.QUIET for d in decisions[-10:])


def test_detection_rate_is_capped() -> None:
    rng = np.random.default_rng(6)
    frames = [noisy_grey(rng, 100, 1.0) for _ in range(31)]
    decisions = run(MotionGate(recheck_s=100.0, max_detect_fps=5.0), frames, tracking=True)
    assert [i for i, d in enumerate(decisions) if d.run_detector] == list(range(0, 31, 3))


def test_calm_rate_until_something_is_suspected() -> None:
    """People moving about with nothing suspected are followed at the calm rate (2.5/s on 15 fps:
    every 6th frame); once a condition shows, the full rate (5/s: every 3rd frame) applies."""
    rng = np.random.default_rng(7)
    gate = MotionGate(recheck_s=100.0, max_detect_fps=5.0, calm_detect_fps=2.5)
    ran = [
        i
        for i in range(31)
        if gate.check(
            Frame("cam", i / 15.0, noisy_grey(rng, 100, 1.0), i), tracking=True, alert=i >= 18
        ).run_detector
    ]
    assert ran == [0, 6, 12, 18, 21, 24, 27, 30]
