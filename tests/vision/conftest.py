"""Helpers for the pipeline tests: videos drawn here, a colour-box detector, an ffprobe check.

``ColourDetector`` is a real (if simple) ``Detector``: it finds solid colour rectangles by
thresholding, so the pipeline can be tested end to end on real encoded video without a model.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from vision.kinds import CLASS_NAMES, Severity, ViolationKind
from vision.model_eval import _iou
from vision.synth.generate import build_scenario, random_spec
from vision.synth.render import GTObject, Renderer
from vision.types import EventPhase, ViolationEvent

# class -> BGR colour used to draw it (saturated, far apart, survive H.264)
COLOURS: dict[str, tuple[int, int, int]] = {
    "person": (200, 60, 60),  # blue-ish
    "head_bare": (40, 200, 230),  # yellow
    "head_hat": (240, 240, 240),  # white
    "face_mask": (200, 40, 200),  # magenta: a face seen (a bare head is judged only with it)
    "rat": (40, 40, 200),  # red
    "bin_open": (40, 180, 40),  # green
}

Draw = Callable[[int], list[tuple[str, tuple[int, int, int, int]]]]


def draw_frame(
    boxes: Sequence[tuple[str, tuple[int, int, int, int]]], w: int = 320, h: int = 240
) -> np.ndarray:
    img = np.full((h, w, 3), 110, dtype=np.uint8)
    for cls, (x1, y1, x2, y2) in boxes:
        cv2.rectangle(img, (x1, y1), (x2, y2), COLOURS[cls], -1)
    return img


def write_video(
    path: Path, n: int, draw: Draw, *, fps: int = 10, w: int = 320, h: int = 240, gop: int = 250
) -> Path:
    """An H.264 MP4 of ``n`` drawn frames; a keyframe every ``gop`` frames (x264's default 250)."""
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "18", "g": str(gop), "keyint_min": str(gop)}
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(draw_frame(draw(i), w, h), format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


class ColourDetector:
    """Finds the solid rectangles of ``COLOURS`` (nested ones too: a head on a person)."""

    class_names = CLASS_NAMES
    model_version = "colour-test-1"

    def __init__(self) -> None:
        self.calls = 0
        self.images = 0

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[sv.Detections]:
        self.calls += 1
        self.images += len(images)
        return [self._one(img) for img in images]

    def _one(self, img: npt.NDArray[np.uint8]) -> sv.Detections:
        boxes, names = [], []
        for cls, colour in COLOURS.items():
            diff = np.abs(img.astype(np.int16) - np.array(colour, dtype=np.int16)).max(axis=2)
            mask = (diff < 30).astype(np.uint8)
            count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            for i in range(1, count):
                x, y, w, h, area = stats[i]
                if area >= 12:
                    boxes.append([x, y, x + w, y + h])
                    names.append(cls)
        if not boxes:
            return sv.Detections.empty()
        return sv.Detections(
            xyxy=np.array(boxes, dtype=np.float32),
            confidence=np.full(len(boxes), 0.9, dtype=np.float32),
            class_id=np.array([CLASS_NAMES.index(n) for n in names]),
            data={"class_name": np.array(names)},
        )


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    pos, order = 0, []
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        order.append(data[pos + 4 : pos + 8])
        if size < 8:
            break
        pos += size
    return b"moov" in order and b"mdat" in order and order.index(b"moov") < order.index(b"mdat")


def assert_browser_clip(path: Path, min_frames: int = 1) -> dict:
    """The clip plays in Chromium: H.264, yuv420p, faststart; and has frames."""
    info = ffprobe(path)
    (video,) = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert video["codec_name"] == "h264"
    assert video["pix_fmt"] == "yuv420p"
    assert int(video["nb_frames"]) >= min_frames
    assert moov_before_mdat(path), f"{path} is not faststart"
    return video


@pytest.fixture
def colour_detector() -> ColourDetector:
    return ColourDetector()


# Frames from held-out scene seeds (900_000+, never used for training): what the shipped model
# must find on them, and the frames themselves (rendered once per test session).
HELDOUT_SEEDS = (900_000, 900_001, 900_002)
LARGE_CLASSES = (
    "person",
    "head_hat",
    "head_bare",
    "face_bare",
    "uniform",
    "street_clothes",
    "bin_open",
    "bin_closed",
)
Scene = tuple[npt.NDArray[np.uint8], list[GTObject]]


@pytest.fixture(scope="session")
def scenes() -> list[Scene]:
    return [Renderer(build_scenario(random_spec(s))).render(6.0, 90) for s in HELDOUT_SEEDS]


def matched(gt: list[GTObject], xyxy: npt.NDArray[np.float32], names: npt.NDArray[np.str_], cls: str) -> int:
    """How many true ``cls`` boxes a detection of that class covers with IoU >= 0.5."""
    true = np.array([o.xyxy for o in gt if o.cls.value == cls], dtype=np.float32).reshape(-1, 4)
    mine = xyxy[names == cls]
    if len(true) == 0 or len(mine) == 0:
        return 0
    return int((_iou(true, mine).max(axis=1) >= 0.5).sum())


def assert_finds_people_and_large_objects(scenes: list[Scene], results: Sequence[sv.Detections]) -> None:
    """Every person at IoU >= 0.5, and >= 90 % of the large attribute and bin boxes."""
    total = hits = 0
    for (_, gt), d in zip(scenes, results, strict=True):
        names = d.data["class_name"]
        people = sum(o.cls.value == "person" for o in gt)
        assert people > 0
        assert matched(gt, d.xyxy, names, "person") == people, "every person is found at IoU >= 0.5"
        for cls in LARGE_CLASSES:
            total += sum(o.cls.value == cls for o in gt)
            hits += matched(gt, d.xyxy, names, cls)
    assert hits >= 0.9 * total, f"{hits}/{total} large boxes matched"


def rodent_event(
    phase: EventPhase,
    start: float,
    end: float | None = None,
    *,
    xyxy: tuple[float, float, float, float] = (100.0, 60.0, 160.0, 200.0),
) -> ViolationEvent:
    """One rodent event ``e1`` in the given phase: what a clip recorder is driven with in tests."""
    return ViolationEvent(
        kind=ViolationKind.RODENT,
        severity=Severity.RED,
        camera_id="cam",
        track_id=3,
        started_s=start,
        updated_s=start,
        confidence=0.8,
        xyxy=xyxy,
        id="e1",
        ended_s=end,
        phase=phase,
    )
