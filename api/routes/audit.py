from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api import audit
from api.deps import AdminUser, SessionDep
from api.models import AuditEntry
from api.schemas.common import NO_NUL, errors
from api.schemas.event import AuditEntriesPublic, AuditEntryPublic, ChainStatus

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=errors(401, 403))
def list_audit(
    p: AdminUser,
    session: SessionDep,
    object_id: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditEntriesPublic:
    """Newest first. Entries are never edited; ``/audit/verify`` checks the chain."""
    stmt = select(AuditEntry)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit)).all()
    return AuditEntriesPublic(data=[AuditEntryPublic.model_validate(e) for e in rows], count=count)


@router.get("/audit/verify", responses=errors(401, 403))
def verify_chain(p: AdminUser, session: SessionDep) -> ChainStatus:
    report = audit.verify(session)
    return ChainStatus(
        ok=report.ok, checked=report.checked, first_bad_seq=report.first_bad_seq, problem=report.problem
    )
