"""JsonlSink: one line per closed event, idempotent by id, relative media paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vision.kinds import Severity, ViolationKind
from vision.sinks import JsonlSink, read_events
from vision.types import EventPhase, ViolationEvent


def ev(phase: EventPhase, eid: str = "e1", media: Path | None = None) -> ViolationEvent:
    return ViolationEvent(
        kind=ViolationKind.SMOKING,
        severity=Severity.RED,
        camera_id="cam",
        track_id=4,
        started_s=1.25,
        updated_s=3.0,
        confidence=0.876543,
        xyxy=(1.0, 2.0, 3.0, 4.0),
        id=eid,
        ended_s=3.0 if phase is EventPhase.CLOSE else None,
        phase=phase,
        clip_path=str(media / "c.mp4") if media else None,
        snapshot_path=str(media / "c.jpg") if media else None,
        model_version="m",
        rule_version="r",
        track_boxes=[(1.25, 1.0, 2.0, 3.0, 4.0)],
        opened_s=2.25,
    )


def test_only_closed_events_are_written_once(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "video")
    for phase in (EventPhase.OPEN, EventPhase.UPDATE, EventPhase.CLOSE, EventPhase.CLOSE):
        sink.emit(ev(phase, media=tmp_path / "video"))
    sink.emit(ev(EventPhase.CLOSE, eid="e2"))
    sink.close()
    lines = (tmp_path / "video" / "events.jsonl").read_text().splitlines()
    assert len(lines) == 2 and sink.opened == 1 and sink.updated == 1
    first = json.loads(lines[0])
    assert first["id"] == "e1" and first["kind"] == "smoking" and first["severity"] == "red"
    assert (first["start_s"], first["end_s"], first["track_id"]) == (1.25, 3.0, 4)
    assert first["open_s"] == 2.25  # when it was opened; start_s is backdated to the first evidence
    assert first["clip"] == "c.mp4" and first["snapshot"] == "c.jpg"
    assert first["track_boxes"] == [[1.25, 1.0, 2.0, 3.0, 4.0]]
    assert read_events(tmp_path / "video" / "events.jsonl")[0]["clip"] == str(
        (tmp_path / "video" / "c.mp4").resolve()
    )


def test_emit_after_close_is_an_error(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path)
    sink.close()
    with pytest.raises(RuntimeError, match="closed"):
        sink.emit(ev(EventPhase.CLOSE))


def test_a_new_run_replaces_the_file_unless_appending(tmp_path: Path) -> None:
    for _ in range(2):
        sink = JsonlSink(tmp_path)
        sink.emit(ev(EventPhase.CLOSE))
        sink.close()
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 1
    sink = JsonlSink(tmp_path, append=True)
    sink.emit(ev(EventPhase.CLOSE, eid="e9"))
    sink.close()
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 2
