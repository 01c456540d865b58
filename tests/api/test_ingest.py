"""The database EventSink: idempotent by event id, media copied with their hashes."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.ingest import DatabaseEventSink, UnknownCamera
from api.models import AuditEntry, Event, EventMedia, EventStatus
from tests.api.world import World, make_clip, make_jpeg
from vision.kinds import Severity, ViolationKind
from vision.sink import EventSink
from vision.types import EventPhase, ViolationEvent


def new_event(camera_key: str = "cam-a", **kw: object) -> ViolationEvent:
    base: dict[str, object] = dict(
        kind=ViolationKind.SMOKING,
        severity=Severity.RED,
        camera_id=camera_key,
        track_id=3,
        started_s=10.0,
        updated_s=11.0,
        confidence=0.6,
        xyxy=(1.0, 2.0, 3.0, 4.0),
        model_version="m1",
        rule_version="r1",
    )
    base.update(kw)
    return ViolationEvent(**base)  # type: ignore[arg-type]


def counts(world: World) -> tuple[int, int, int]:
    with world.services.session_factory() as s:
        return (
            s.scalar(select(func.count()).select_from(Event)) or 0,
            s.scalar(select(func.count()).select_from(EventMedia)) or 0,
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def test_sink_satisfies_the_vision_protocol(world: World) -> None:
    assert isinstance(world.sink(), EventSink)


def test_replaying_every_phase_is_harmless(world: World, tmp_path: Path) -> None:
    sink = world.sink()
    ev = new_event(started_wall=1_764_000_000.0)
    sink.emit(ev)
    sink.emit(ev)  # replayed open
    ev.phase, ev.updated_s, ev.confidence = EventPhase.UPDATE, 14.0, 0.9
    sink.emit(ev)
    ev.phase, ev.ended_s = EventPhase.CLOSE, 15.0
    ev.clip_path = str(make_clip(tmp_path / "c.mp4"))
    ev.snapshot_path = str(tmp_path / "s.jpg")
    make_jpeg(Path(ev.snapshot_path))
    sink.emit(ev)
    after_close = counts(world)
    sink.emit(ev)  # replayed close, same files
    sink.emit(ev)
    assert counts(world) == after_close == (1, 2, 3)  # ingested + clip stored + snapshot stored
    with world.services.session_factory() as s:
        row = s.scalars(select(Event)).one()
        assert row.status is EventStatus.PENDING and row.confidence == 0.9
        assert row.started_at.timestamp() == 1_764_000_000.0
        assert row.ended_at is not None and (row.ended_at - row.started_at).total_seconds() == 5.0
        media = {m.kind.value: m for m in row.media}
        clip_bytes = (tmp_path / "c.mp4").read_bytes()
        assert media["clip"].sha256 == hashlib.sha256(clip_bytes).hexdigest()
        stored = world.services.media_dir / media["clip"].rel_path
        assert stored.read_bytes() == clip_bytes and media["clip"].rel_path.startswith("events/")


def test_unknown_camera_is_a_clear_error_and_stores_nothing(world: World) -> None:
    with pytest.raises(UnknownCamera, match="no camera with key 'nope'"):
        world.sink().emit(new_event("nope"))
    assert counts(world) == (0, 0, 0)


def test_missing_media_keeps_the_event(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ev = new_event(clip_path=str(tmp_path / "gone.mp4"))
    with caplog.at_level(logging.ERROR, logger="api.ingest"):
        world.sink().emit(ev)
    assert counts(world)[:2] == (1, 0)
    assert "missing" in caplog.text
    ev.clip_path = str(make_clip(tmp_path / "gone.mp4"))  # the recorder finishes later: replay fills it in
    world.sink().emit(ev)
    assert counts(world)[:2] == (1, 1)


def test_reviewed_evidence_is_never_replaced(world: World, tmp_path: Path) -> None:
    ev = new_event(clip_path=str(make_clip(tmp_path / "a.mp4", frames=10)))
    world.sink().emit(ev)
    r = world.client.post(
        f"/api/events/{ev.id}/review",
        json={"decision": "confirm", "reason": "seen"},
        headers=world.headers("reg_x"),
    )
    assert r.status_code == 200
    shutil.copy(make_clip(tmp_path / "b.mp4", frames=20), tmp_path / "a.mp4")
    world.sink().emit(ev)
    with world.services.session_factory() as s:
        media = s.scalars(select(EventMedia)).one()
        stored = world.services.media_dir / media.rel_path
    assert media.sha256 != hashlib.sha256((tmp_path / "a.mp4").read_bytes()).hexdigest()
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == media.sha256


def test_non_uuid_event_ids_map_to_stable_rows(world: World) -> None:
    sink = world.sink()
    sink.emit(new_event(id="camera-7/track-3/no_hat"))
    sink.emit(new_event(id="camera-7/track-3/no_hat"))
    assert counts(world)[0] == 1


def test_from_settings_owns_its_engine(world: World) -> None:
    sink = DatabaseEventSink.from_settings(world.services.settings)
    sink.emit(new_event())
    sink.close()
    assert counts(world)[0] == 1
