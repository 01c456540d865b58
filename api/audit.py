"""Append-only audit log with a hash chain: who, when, what, why.

Each entry's hash covers its own fields and the previous entry's hash, so changing, removing or
re-ordering any entry breaks every hash after it; ``audit_head`` pins the newest hash so cutting
off the tail is caught too. ``verify`` walks the chain; ``brightkitchen audit verify`` prints it.

Example::

    append(session, actor=Actor.of(user), action="event.confirmed", object_type="event",
           object_id=str(event.id), site_id=event.site_id, reason="hat missing for 8 s")
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import AuditEntry, AuditHead, User, utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a user, or a named system component (ingest, escalation)."""

    id: uuid.UUID | None
    label: str

    @staticmethod
    def of(user: User) -> Actor:
        return Actor(user.id, user.username)

    @staticmethod
    def system(component: str) -> Actor:
        return Actor(None, f"system:{component}")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    site_id: uuid.UUID | None,
    reason: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": str(actor_id) if actor_id else None,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "site_id": str(site_id) if site_id else None,
        "reason": reason,
        "details": details,
        "prev_hash": prev_hash,
    }
    canon = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _hash_of(e: AuditEntry) -> str:
    return entry_hash(
        seq=e.seq,
        at=e.at,
        actor_id=e.actor_id,
        actor=e.actor,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        site_id=e.site_id,
        reason=e.reason,
        details=e.details,
        prev_hash=e.prev_hash,
    )


def append(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    site_id: uuid.UUID | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction; the head row lock orders concurrent writers."""
    head = session.execute(
        select(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    fields: dict[str, Any] = {
        "seq": head.last_seq + 1,
        "at": at or utcnow(),
        "actor_id": actor.id,
        "actor": actor.label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "site_id": site_id,
        "reason": reason,
        "details": details or {},
        "prev_hash": head.last_hash,
    }
    entry = AuditEntry(**fields, hash=entry_hash(**fields))
    session.add(entry)
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(session: Session, batch: int = 2000) -> ChainReport:
    """Recompute every hash in order; report the first entry that does not fit."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch))
    for entry in rows.scalars():
        if entry.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev_hash:
            return ChainReport(False, checked, entry.seq, "previous-hash link broken")
        if _hash_of(entry) != entry.hash:
            return ChainReport(False, checked, entry.seq, "entry content does not match its hash")
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, HEAD_ID)
    if head is None or head.last_seq != checked or head.last_hash != prev_hash:
        return ChainReport(False, checked, checked + 1, "newest entries are missing (head does not match)")
    return ChainReport(True, checked)
