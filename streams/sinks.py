"""Event sinks the stream layer can use on its own (the API brings its database sink).

``JsonlEventSink`` appends one JSON line per event phase, so a runtime without the API still
keeps every event; ``CollectingSink`` keeps them in memory for an embedding program;
``FanoutSink`` sends each event to several sinks. All are thread-safe: camera threads emit
concurrently.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from vision.sink import EventSink
from vision.types import ViolationEvent

log = logging.getLogger(__name__)


def event_to_dict(event: ViolationEvent) -> dict[str, object]:
    d = dataclasses.asdict(event)
    d["kind"] = event.kind.value
    d["severity"] = event.severity.value
    d["phase"] = event.phase.value
    d["xyxy"] = list(event.xyxy)
    return d


class JsonlEventSink:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fh = self.path.open("a", encoding="utf-8")

    def emit(self, event: ViolationEvent) -> None:
        line = json.dumps(event_to_dict(event), ensure_ascii=False)
        with self._lock:
            if self._fh.closed:
                raise RuntimeError(f"event sink {self.path} is closed")
            self._fh.write(line + "\n")
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()


class CollectingSink:
    """Keeps a copy of every emitted phase (events are mutable; copies freeze the phase)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[ViolationEvent] = []
        self.closed = False

    def emit(self, event: ViolationEvent) -> None:
        with self._lock:
            self.events.append(dataclasses.replace(event))

    def close(self) -> None:
        self.closed = True

    def snapshot(self) -> list[ViolationEvent]:
        with self._lock:
            return list(self.events)


class FanoutSink:
    def __init__(self, sinks: Iterable[EventSink]) -> None:
        self.sinks = list(sinks)

    def emit(self, event: ViolationEvent) -> None:
        for sink in self.sinks:
            try:
                sink.emit(event)
            except Exception:  # one broken sink must not hide the event from the others
                log.exception("event sink %r failed for event %s", sink, event.id)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
