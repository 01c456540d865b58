"""Looks of people on real sample frames: a person later is more alike than someone else."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from vision.appearance import LOOK_MEMORY, alike, blend, look_of, with_looks
from vision.tracking import TrackedSubject
from vision.types import Track

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"


def person_looks(name: str, frames: set[int]) -> dict[tuple[int, int], np.ndarray]:
    """(frame index, ground-truth person id) -> look, from the decoded sample clip."""
    doc = json.loads((SAMPLES / f"{name}.json").read_text())
    boxes = {
        f["index"]: {o["track_id"]: tuple(o["xyxy"]) for o in f["objects"] if o["class"] == "person"}
        for f in doc["frames"]
        if f["index"] in frames
    }
    out = {}
    with av.open(str(SAMPLES / f"{name}.mp4")) as container:
        for i, vf in enumerate(container.decode(video=0)):
            if i in boxes:
                image = vf.to_ndarray(format="bgr24")
                for pid, box in boxes[i].items():
                    look = look_of(image, box)
                    if look is not None:
                        out[(i, pid)] = look
            if i > max(frames):
                break
    return out


@pytest.mark.parametrize("name", ["hot_kitchen_mixed", "wash_area_mixed", "canteen_no_mask"])
def test_a_person_two_seconds_later_looks_more_like_themselves_than_like_the_others(name: str) -> None:
    early, late = 30, 60  # 2 s apart at 15 fps
    looks = person_looks(name, {early, late})
    people = sorted({pid for (i, pid) in looks if i == early and (late, pid) in looks})
    assert len(people) >= 2, "the clip needs two people seen at both times"
    for pid in people:
        mine = alike(looks[(early, pid)], looks[(late, pid)])
        others = [alike(looks[(early, pid)], looks[(late, q)]) for q in people if q != pid]
        assert mine > max(others), (pid, mine, others)


def test_a_look_is_a_histogram_per_band_and_alike_is_one_only_for_the_same_colours() -> None:
    image = np.zeros((200, 100, 3), dtype=np.uint8)
    image[:, :50] = (250, 250, 250)  # a white coat...
    image[:, 50:] = (200, 80, 20)  # ...beside a blue shirt
    white, blue = look_of(image, (0, 0, 50, 200)), look_of(image, (50, 0, 100, 200))
    assert white is not None and blue is not None
    assert np.allclose(white.sum(axis=1), 1.0)
    assert alike(white, white) == pytest.approx(1.0)
    assert alike(white, blue) == pytest.approx(0.0)
    assert look_of(image, (0, 0, 50, 10)) is None  # too small to say


def test_a_runs_look_is_the_mean_of_its_first_looks_then_moves_slowly() -> None:
    a, b = np.zeros((3, 4), np.float32), np.ones((3, 4), np.float32)
    mean = blend(None, a, 0)
    for seen in range(1, LOOK_MEMORY):
        mean = blend(mean, a, seen)
    assert np.allclose(blend(mean, b, LOOK_MEMORY), 1.0 / LOOK_MEMORY)  # one frame moves it 10 %
    assert np.allclose(blend(a, b, 1), 0.5)  # the plain mean of two


def test_only_people_get_a_look() -> None:
    image = np.full((100, 100, 3), 128, np.uint8)
    person = TrackedSubject(Track("cam", 1, "person", (10.0, 10.0, 50.0, 90.0), 0.9, 0.0))
    rat = TrackedSubject(Track("cam", 2, "rat", (10.0, 10.0, 50.0, 90.0), 0.9, 0.0))
    looked = with_looks([person, rat], image)
    assert looked[0].look is not None and looked[1].look is None
