"""``EventSink``: how the vision layer hands violation events up without importing them.

The pipeline calls ``emit`` for every phase of an event (open, update, close). Media paths on
the event (``clip_path``, ``snapshot_path``) are set once the files are complete; a sink must be
idempotent by ``event.id`` (replaying the same phase is harmless).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from vision.types import ViolationEvent


@runtime_checkable
class EventSink(Protocol):
    def emit(self, event: ViolationEvent) -> None: ...

    def close(self) -> None: ...


class TeeSink:
    """Hands every event to several sinks in order (e.g. files and the database)."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: ViolationEvent) -> None:
        for s in self.sinks:
            s.emit(event)

    def close(self) -> None:
        for s in self.sinks:
            s.close()
