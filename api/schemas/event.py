from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel

from api.models import EventStatus, MediaKind, RectificationStatus
from api.schemas.common import Orm, text
from vision.kinds import Severity, ViolationKind


class MediaPublic(Orm):
    kind: MediaKind
    sha256: str
    size_bytes: int
    content_type: str
    url: str


class EventSummary(Orm):
    id: uuid.UUID
    kind: ViolationKind
    severity: Severity
    site_id: uuid.UUID
    camera_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None
    confidence: float
    status: EventStatus


class EventsPublic(BaseModel):
    data: list[EventSummary]
    count: int  # exact up to 10 000; then 10 000 with count_capped
    count_capped: bool = False


class RectificationBrief(Orm):
    id: uuid.UUID
    status: RectificationStatus
    deadline_at: datetime
    escalation_level: int


class EventPublic(EventSummary):
    camera_key: str
    site_name: str
    track_id: int
    updated_at: datetime
    xyxy: tuple[float, float, float, float]
    model_version: str
    rule_version: str
    review_reason: str | None
    reviewed_by_id: uuid.UUID | None
    reviewed_at: datetime | None
    media: list[MediaPublic]
    rectifications: list[RectificationBrief]


class Decision(StrEnum):
    CONFIRM = "confirm"
    DISMISS = "dismiss"


class EventReview(BaseModel):
    decision: Decision
    reason: str = text(1, 2000)


class RectificationOrder(BaseModel):
    instructions: str = text(1, 4000)
    deadline_at: AwareDatetime | None = None  # default: by the event's severity


class RecheckDecision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class RectificationReview(BaseModel):
    decision: RecheckDecision
    result: str = text(1, 4000)


class PhotoPublic(Orm):
    id: uuid.UUID
    sha256: str
    size_bytes: int
    width: int
    height: int
    content_type: str


class RectificationPublic(Orm):
    id: uuid.UUID
    event_id: uuid.UUID
    site_id: uuid.UUID
    status: RectificationStatus
    instructions: str
    ordered_by_id: uuid.UUID
    ordered_at: datetime
    deadline_at: datetime
    reply_text: str | None
    submitted_by_id: uuid.UUID | None
    submitted_at: datetime | None
    review_result: str | None
    reviewed_by_id: uuid.UUID | None
    reviewed_at: datetime | None
    escalation_level: int
    responsible_region_id: uuid.UUID
    escalated_at: datetime | None
    photos: list[PhotoPublic]


class RectificationsPublic(BaseModel):
    data: list[RectificationPublic]
    count: int


class AuditEntryPublic(Orm):
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor: str
    action: str
    object_type: str
    object_id: str
    site_id: uuid.UUID | None
    reason: str | None
    details: dict[str, str | int | float | bool | None]
    prev_hash: str
    hash: str


class AuditEntriesPublic(BaseModel):
    data: list[AuditEntryPublic]
    count: int


class ChainStatus(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str
