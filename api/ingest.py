"""``DatabaseEventSink``: the vision pipeline's ``EventSink`` that stores events and media.

Idempotent by event id: the first ``emit`` of an id inserts the row (and one audit entry);
later phases update times, confidence and media; replaying any phase changes nothing. Media
files are copied under the media root (``events/<site>/<event>/clip.mp4``) with their sha256
recorded; a file that changes after the event was reviewed is never replaced (evidence).

Example::

    sink = DatabaseEventSink.from_settings(get_settings())
    pipeline.run(source, sink)   # calls sink.emit(event) for open / update / close
    sink.close()
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api import audit
from api.alerts.triggers import on_event_ended, on_event_ingested
from api.audit import Actor
from api.db import make_engine, make_session_factory
from api.media import copy_in, sha256_file
from api.models import Camera, Event, EventMedia, EventStatus, MediaKind, utcnow
from api.settings import Settings
from vision.types import ViolationEvent

log = logging.getLogger("api.ingest")
EVENT_NAMESPACE = uuid.UUID("6f1c2a52-5d1e-4c1b-9a51-0d3f6a1b7e21")
SUFFIXES = {MediaKind.CLIP: {".mp4"}, MediaKind.SNAPSHOT: {".jpg", ".jpeg", ".png"}}


class UnknownCamera(LookupError):
    """The event names a camera key no camera row has; register the camera first."""


def event_uuid(event_id: str) -> uuid.UUID:
    """The vision id is a UUID string; any other string maps to a stable UUID5."""
    try:
        return uuid.UUID(event_id)
    except ValueError:
        return uuid.uuid5(EVENT_NAMESPACE, event_id)


class DatabaseEventSink:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        media_dir: Path,
        clock: Callable[[], datetime] = utcnow,
        engine: Engine | None = None,
    ) -> None:
        self._sessions = session_factory
        self._media_dir = media_dir
        self._clock = clock
        self._engine = engine  # owned (disposed on close) when built from settings

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseEventSink:
        engine = make_engine(settings)
        return cls(make_session_factory(engine), settings.media_dir, engine=engine)

    def emit(self, event: ViolationEvent) -> None:
        try:
            self._emit_once(event)
        except IntegrityError:
            self._emit_once(event)  # a concurrent emit of the same id inserted first: update it

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _emit_once(self, ev: ViolationEvent) -> None:
        with self._sessions() as session, session.begin():
            camera = session.scalar(select(Camera).where(Camera.key == ev.camera_id))
            if camera is None:
                raise UnknownCamera(
                    f"no camera with key {ev.camera_id!r}; create it before ingesting its events"
                )
            row = session.get(Event, event_uuid(ev.id))
            if row is None:
                row = self._insert(session, camera, ev)
            else:
                was_open = row.ended_at is None
                self._update(row, ev)
                if was_open and row.ended_at is not None:
                    on_event_ended(session, row, self._clock())  # alert outbox, same transaction
            for kind, path in ((MediaKind.CLIP, ev.clip_path), (MediaKind.SNAPSHOT, ev.snapshot_path)):
                if path:
                    self._store_media(session, row, kind, Path(path))

    def _wall(self, ev: ViolationEvent, offset_s: float) -> datetime:
        if ev.started_wall is not None:
            start = datetime.fromtimestamp(ev.started_wall, UTC)
        else:
            start = self._clock() - timedelta(seconds=max(0.0, ev.updated_s - ev.started_s))
        return start + timedelta(seconds=offset_s - ev.started_s)

    def _insert(self, session: Session, camera: Camera, ev: ViolationEvent) -> Event:
        x1, y1, x2, y2 = (float(v) for v in ev.xyxy)
        row = Event(
            id=event_uuid(ev.id),
            kind=ev.kind,
            severity=ev.severity,
            camera_id=camera.id,
            site_id=camera.site_id,
            track_id=ev.track_id,
            started_at=self._wall(ev, ev.started_s),
            updated_at=self._wall(ev, ev.updated_s),
            ended_at=self._wall(ev, ev.ended_s) if ev.ended_s is not None else None,
            confidence=float(ev.confidence),
            x1=x1,
            y1=y1,
            x2=x2,
            y2=y2,
            model_version=ev.model_version,
            rule_version=ev.rule_version,
            status=EventStatus.PENDING,
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            actor=Actor.system("ingest"),
            action="event.ingested",
            object_type="event",
            object_id=str(row.id),
            site_id=row.site_id,
            details={"kind": ev.kind.value, "camera": camera.key, "source_id": ev.id[:64]},
        )
        on_event_ingested(session, row, self._clock())  # alert outbox, same transaction
        return row

    def _update(self, row: Event, ev: ViolationEvent) -> None:
        updated = self._wall_from_row(row, ev, ev.updated_s)
        if updated > row.updated_at:
            row.updated_at = updated
            row.x1, row.y1, row.x2, row.y2 = (float(v) for v in ev.xyxy)
        row.confidence = max(row.confidence, float(ev.confidence))
        if ev.ended_s is not None and row.ended_at is None:
            row.ended_at = self._wall_from_row(row, ev, ev.ended_s)

    @staticmethod
    def _wall_from_row(row: Event, ev: ViolationEvent, offset_s: float) -> datetime:
        """Later phases are placed relative to the stored start, so replays land on the same time."""
        return row.started_at + timedelta(seconds=offset_s - ev.started_s)

    def _store_media(self, session: Session, row: Event, kind: MediaKind, src: Path) -> None:
        suffix = src.suffix.lower()
        if suffix not in SUFFIXES[kind]:
            log.error("event %s: %s %s has an unexpected type; not stored", row.id, kind.value, src.name)
            return
        if not src.is_file():
            log.error(
                "event %s: %s file %s is missing; the event is stored without it", row.id, kind.value, src
            )
            return
        existing = session.scalar(
            select(EventMedia).where(EventMedia.event_id == row.id, EventMedia.kind == kind)
        )
        if existing is not None:
            if existing.sha256 == sha256_file(src):
                return  # replay of the same file
            if row.status is not EventStatus.PENDING:
                log.warning("event %s already reviewed; its %s is kept unchanged", row.id, kind.value)
                return
        stored = copy_in(self._media_dir, src, f"events/{row.site_id}/{row.id}/{kind.value}{suffix}")
        if existing is None:
            session.add(
                EventMedia(
                    event_id=row.id,
                    kind=kind,
                    rel_path=stored.rel_path,
                    sha256=stored.sha256,
                    size_bytes=stored.size_bytes,
                    content_type=stored.content_type,
                )
            )
        else:
            existing.rel_path, existing.sha256 = stored.rel_path, stored.sha256
            existing.size_bytes, existing.content_type = stored.size_bytes, stored.content_type
        audit.append(
            session,
            actor=Actor.system("ingest"),
            action=f"media.stored.{kind.value}",
            object_type="event",
            object_id=str(row.id),
            site_id=row.site_id,
            details={"sha256": stored.sha256, "bytes": stored.size_bytes},
        )
