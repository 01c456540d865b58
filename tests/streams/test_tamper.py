from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from streams.sinks import CollectingSink
from streams.tamper import TamperCause, TamperDetector
from vision.kinds import ViolationKind
from vision.types import EventPhase, Frame

Image = npt.NDArray[np.uint8]
FPS = 10


def scene(i: int) -> Image:
    """A textured kitchen-like view with a person-sized block walking across."""
    rng = np.random.default_rng(3)
    tiles = rng.integers(30, 230, size=(19, 33, 3), dtype=np.uint8)
    img = np.kron(tiles, np.ones((20, 20, 1), dtype=np.uint8))[:360, :640].copy()
    x = (i * 9) % 560
    img[120:300, x : x + 80] = (40, 60, 200)
    return img


def feed(det: TamperDetector, start: int, n: int, image_of: Callable[[int], Image]) -> None:
    for i in range(start, start + n):
        det.update(Frame("c1", i / FPS, image_of(i), i, 1_700_000_000 + i / FPS))


def covered(_i: int) -> Image:
    return np.full((360, 640, 3), 18, np.uint8)


def blurred(i: int) -> Image:
    return cv2.GaussianBlur(scene(i), (0, 0), 12)


def moved(i: int) -> Image:
    return np.ascontiguousarray(np.rot90(scene(i), 2))


@pytest.mark.parametrize(
    ("tamper", "cause"),
    [(covered, TamperCause.COVERED), (blurred, TamperCause.BLURRED), (moved, TamperCause.MOVED)],
)
def test_lasting_change_opens_then_closes_one_event(
    tamper: Callable[[int], Image], cause: TamperCause
) -> None:
    sink = CollectingSink()
    det = TamperDetector("c1", sink, min_duration_s=3, grace_s=2)
    feed(det, 0, 100, scene)  # 10 s of normal view: learn the reference
    assert sink.events == []
    feed(det, 100, 20, tamper)  # 2 s: shorter than min_duration
    assert sink.events == [] and det.cause is cause
    feed(det, 120, 30, tamper)
    assert [e.phase for e in sink.events] == [EventPhase.OPEN]
    opened = sink.events[0]
    assert opened.kind is ViolationKind.CAMERA_TAMPERED
    assert opened.started_s == pytest.approx(10.0, abs=0.6)
    feed(det, 150, 40, scene)  # view restored
    assert [e.phase for e in sink.events] == [EventPhase.OPEN, EventPhase.CLOSE]
    assert sink.events[1].id == opened.id and sink.events[1].ended_s == pytest.approx(15.0, abs=0.6)
    assert det.cause is None


def test_people_walking_past_and_brief_occlusion_are_not_tampering() -> None:
    sink = CollectingSink()
    det = TamperDetector("c1", sink, min_duration_s=3, grace_s=2)

    def close_pass(i: int) -> Image:  # someone passes right in front of the lens for 1.5 s
        img = scene(i)
        if 150 <= i < 165:
            img[:, 100:500] = (90, 80, 70)
        return img

    feed(det, 0, 400, close_pass)
    assert sink.events == []


def test_shutdown_closes_an_open_event() -> None:
    sink = CollectingSink()
    det = TamperDetector("c1", sink, min_duration_s=1, grace_s=1)
    feed(det, 0, 50, scene)
    feed(det, 50, 30, covered)
    det.close()
    assert [e.phase for e in sink.events] == [EventPhase.OPEN, EventPhase.CLOSE]
