"""``JsonlSink``: closed events as JSON lines beside their clips and snapshots.

The file format of ``brightkitchen analyze``: ``DIR/<video stem>/events.jsonl``, one closed
event per line, times in seconds from the start of the video, media paths relative to the file
so the folder can be moved or served as is. Only ``close`` carries the whole story (end time,
clip, best snapshot); ``open`` and ``update`` are counted, not written. Emitting the same event
twice writes it once (sinks are idempotent by id).

Example::

    sink = JsonlSink(Path("out") / "kitchen-night")
    sink.emit(closed_event)
    sink.close()
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from vision.types import EventPhase, ViolationEvent


def event_record(event: ViolationEvent, base: Path | None = None) -> dict[str, Any]:
    """The JSON-lines record of a closed event (media paths relative to ``base`` if given)."""

    def rel(p: str | None) -> str | None:
        if p is None or base is None:
            return p
        try:
            return os.path.relpath(p, base)
        except ValueError:  # another drive (Windows)
            return p

    return {
        "id": event.id,
        "kind": event.kind.value,
        "severity": event.severity.value,
        "camera_id": event.camera_id,
        "track_id": event.track_id,
        "start_s": round(event.started_s, 3),
        "start_wall": _iso(event.started_wall),
        "end_s": round(event.ended_s, 3) if event.ended_s is not None else None,
        "open_s": round(event.opened_s, 3) if event.opened_s is not None else None,
        "confidence": round(event.confidence, 4),
        "clip": rel(event.clip_path),
        "snapshot": rel(event.snapshot_path),
        "model_version": event.model_version,
        "rule_version": event.rule_version,
        "track_boxes": [[round(v, 2) for v in sample] for sample in event.track_boxes],
    }


def _iso(unix: float | None) -> str | None:
    if unix is None:
        return None
    return datetime.fromtimestamp(unix, tz=UTC).isoformat(timespec="milliseconds")


class JsonlSink:
    """Appends one line per closed event to ``directory/events.jsonl`` and flushes it at once.

    Flushing per line means a crash later in the video loses nothing already written.
    """

    def __init__(self, directory: Path, *, filename: str = "events.jsonl", append: bool = False) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / filename
        # A new analysis of a video replaces the old file (re-running must not double the lines).
        self._file: IO[str] | None = self.path.open("a" if append else "w", encoding="utf-8")
        self._written: set[str] = set()
        self.opened = 0
        self.updated = 0

    def emit(self, event: ViolationEvent) -> None:
        if event.phase is EventPhase.OPEN:
            self.opened += 1
            return
        if event.phase is EventPhase.UPDATE:
            self.updated += 1
            return
        if event.id in self._written:
            return
        if self._file is None:
            raise RuntimeError(f"sink {self.path} is closed")
        self._file.write(json.dumps(event_record(event, self.directory), ensure_ascii=False) + "\n")
        self._file.flush()
        self._written.add(event.id)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def written(self) -> int:
        return len(self._written)


def read_events(path: Path) -> list[dict[str, Any]]:
    """Read an ``events.jsonl`` back (media paths made absolute again)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        for key in ("clip", "snapshot"):
            if rec.get(key):
                rec[key] = str((path.parent / rec[key]).resolve())
        out.append(rec)
    return out
