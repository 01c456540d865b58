from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from streams.config import ConfigError, load_config, parse_config
from vision.kinds import Severity, ViolationKind

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "sites.example.yaml"


def minimal(**camera: object) -> dict[str, object]:
    return {"sites": [{"id": "s1", "cameras": [{"id": "c1", "url": "rtsp://h/s", **camera}]}]}


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    ids = [c.id for _, c in cfg.cameras()]
    assert ids == ["sample-canteen_no_hat", "restaurant-7-hot"]
    hot = cfg.cameras()[1][1]
    assert hot.record_url is not None and cfg.camera_health(hot).offline_after_s == 120
    assert cfg.camera_health(cfg.cameras()[0][1]).offline_after_s == 60


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (minimal(ofline_after_s=3), "sites.0.cameras.0.ofline_after_s: Extra inputs are not permitted"),
        (minimal(url="http://cam/x"), "unsupported camera URL scheme 'http'"),
        (minimal(detect_fps=0), "sites.0.cameras.0.detect_fps"),
        (minimal(health={"stall_timeout_s": 30}), "stall_timeout_s"),
        (
            minimal(health={"backoff_base_s": 10, "backoff_max_s": 5}),
            "backoff_max_s must be >= backoff_base_s",
        ),
        ({"sites": []}, "sites: List should have at least 1 item"),
        ({"sites": [{"id": "s1", "cameras": [{"id": "c 1", "url": "a.mp4"}]}]}, "cameras.0.id"),
        (
            {"sites": [{"id": "s1", "timezone": "Mars/Base", "cameras": [{"id": "c", "url": "a.mp4"}]}]},
            "Mars",
        ),
        (
            {"sites": [{"id": "s1", "cameras": [{"id": "c", "url": "a.mp4"}, {"id": "c", "url": "b.mp4"}]}]},
            "duplicate camera id(s): c",
        ),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_bad_config_is_a_clear_error(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(raw, source="sites.yaml")
    assert message in str(err.value) and str(err.value).startswith("sites.yaml")


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_offline_is_red_inside_working_hours() -> None:
    cfg = parse_config(yaml.safe_load(EXAMPLE.read_text()))
    site, cam = cfg.cameras()[0]
    tz = ZoneInfo("Asia/Shanghai")
    at_noon = datetime(2026, 11, 2, 12, 0, tzinfo=tz).timestamp()
    at_night = datetime(2026, 11, 2, 23, 0, tzinfo=tz).timestamp()
    assert site.severity_at(cam, ViolationKind.CAMERA_OFFLINE, at_noon) is Severity.RED
    assert site.severity_at(cam, ViolationKind.CAMERA_OFFLINE, at_night) is Severity.ORANGE
    assert site.severity_at(cam, ViolationKind.CAMERA_TAMPERED, at_night) is Severity.RED


@pytest.mark.parametrize(("calm", "interval_s"), [(None, 0.2), (2.5, 0.4), (1.0, 1.0)])
def test_calm_detection_rate_reaches_the_camera_pipeline(
    tmp_path: Path, calm: float | None, interval_s: float
) -> None:
    """``calm_detect_fps`` (default 2.5; null: always the full 5/s) sets the motion gate's
    interval while nothing is suspected on the camera."""
    from streams.adapter import vision_pipeline_factory
    from streams.worker import PipelineContext
    from tests.vision.conftest import ColourDetector
    from vision.pipeline import CameraPipeline
    from vision.sinks import JsonlSink

    cfg = parse_config(minimal(calm_detect_fps=calm), source="sites.yaml")
    site, camera = cfg.sites[0], cfg.cameras()[0][1]
    pipe = vision_pipeline_factory(
        PipelineContext(site, camera, ColourDetector(), JsonlSink(tmp_path), tmp_path)  # type: ignore[arg-type]
    )
    assert isinstance(pipe, CameraPipeline)
    assert pipe.motion.calm_interval_s == pytest.approx(interval_s)
    assert pipe.setup.calm_when_reported is False  # the default; true below


def test_calm_when_reported_reaches_the_camera_pipeline(tmp_path: Path) -> None:
    from streams.adapter import vision_pipeline_factory
    from streams.worker import PipelineContext
    from tests.vision.conftest import ColourDetector
    from vision.pipeline import CameraPipeline
    from vision.sinks import JsonlSink

    cfg = parse_config(minimal(calm_when_reported=True), source="sites.yaml")
    site, camera = cfg.sites[0], cfg.cameras()[0][1]
    pipe = vision_pipeline_factory(
        PipelineContext(site, camera, ColourDetector(), JsonlSink(tmp_path), tmp_path)  # type: ignore[arg-type]
    )
    assert isinstance(pipe, CameraPipeline) and pipe.setup.calm_when_reported is True
