"""Admin routes: webhook subscriptions (with secret rotation) and the dead-letter list.

Secrets are shown once, when created or rotated. Rotation: ``rotate`` adds a second active
secret (deliveries are signed with both); once every receiver uses the new one, ``retire-old``
drops the old. Every change is written to the audit log.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update

from api import audit
from api.alerts.outbox import AlertDelivery, AlertOutbox, Channel, DeliveryStatus, WebhookSubscription
from api.alerts.routes import new_secret
from api.alerts.service import url_policy
from api.alerts.tiers import Audience
from api.alerts.urlpolicy import UrlRefused
from api.audit import Actor
from api.deps import AdminUser, ServicesDep, SessionDep
from api.models import Region, Site, utcnow
from api.schemas.common import errors
from api.scope import Principal

router = APIRouter(prefix="/alerts", tags=["alerts"])


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    audience: Audience
    site_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    audience: Audience
    site_id: uuid.UUID | None
    region_id: uuid.UUID | None
    active: bool
    rotating: bool
    created_at: datetime


class WebhookSecret(WebhookPublic):
    secret: str = Field(description="shown once; sign-verify with it (see docs/alerts.md)")


class WebhooksPublic(BaseModel):
    data: list[WebhookPublic]
    count: int


class DeadLetter(BaseModel):
    id: int
    alert_id: int | None
    channel: Channel
    target: str
    attempts: int
    due_at: datetime
    last_error: str | None


class DeadLetters(BaseModel):
    data: list[DeadLetter]
    count: int


def _public(sub: WebhookSubscription) -> WebhookPublic:
    return WebhookPublic(
        id=sub.id,
        url=sub.url,
        audience=sub.audience,
        site_id=sub.site_id,
        region_id=sub.region_id,
        active=sub.active,
        rotating=sub.secret_next is not None,
        created_at=sub.created_at,
    )


def _get_sub(session: SessionDep, sub_id: uuid.UUID) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or not sub.active:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "webhook subscription not found")
    return sub


@router.post("/webhooks", status_code=201, responses=errors(400, 401, 403))
def create_webhook(
    body: WebhookCreate, p: AdminUser, session: SessionDep, services: ServicesDep
) -> WebhookSecret:
    """Subscribe a URL; the URL policy (SSRF guard, with DNS) is checked now and at every delivery."""
    try:
        url_policy(services.settings).resolve(body.url)
    except UrlRefused as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"url refused: {exc}") from None
    if body.site_id is not None and body.region_id is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "give site_id or region_id, not both")
    region_path = None
    if body.site_id is not None and session.get(Site, body.site_id) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "site_id does not exist")
    if body.region_id is not None:
        region = session.get(Region, body.region_id)
        if region is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "region_id does not exist")
        region_path = region.path
    sub = WebhookSubscription(
        url=body.url,
        audience=body.audience,
        site_id=body.site_id,
        region_id=body.region_id,
        region_path=region_path,
        secret=new_secret(),
        created_at=utcnow(),
    )
    session.add(sub)
    session.flush()
    _audit(session, p, "webhook.create", sub, {"url": sub.url, "audience": sub.audience.value})
    session.commit()
    return WebhookSecret(**_public(sub).model_dump(), secret=sub.secret)


@router.get("/webhooks", responses=errors(401, 403))
def list_webhooks(p: AdminUser, session: SessionDep) -> WebhooksPublic:
    subs = session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.created_at)
    ).all()
    return WebhooksPublic(data=[_public(s) for s in subs], count=len(subs))


@router.post("/webhooks/{sub_id}/rotate", responses=errors(401, 403, 404, 409))
def rotate_secret(sub_id: uuid.UUID, p: AdminUser, session: SessionDep) -> WebhookSecret:
    """Add a second active secret (both sign every delivery until ``retire-old``)."""
    sub = _get_sub(session, sub_id)
    if sub.secret_next is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "a rotation is already in progress; retire the old secret"
        )
    sub.secret_next = new_secret()
    _audit(session, p, "webhook.rotate", sub, {})
    session.commit()
    return WebhookSecret(**_public(sub).model_dump(), secret=sub.secret_next)


@router.post("/webhooks/{sub_id}/retire-old", responses=errors(401, 403, 404, 409))
def retire_old_secret(sub_id: uuid.UUID, p: AdminUser, session: SessionDep) -> WebhookPublic:
    sub = _get_sub(session, sub_id)
    if sub.secret_next is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no rotation in progress")
    sub.secret, sub.secret_next = sub.secret_next, None
    _audit(session, p, "webhook.retire_old_secret", sub, {})
    session.commit()
    return _public(sub)


@router.delete("/webhooks/{sub_id}", status_code=204, responses=errors(401, 403, 404))
def delete_webhook(sub_id: uuid.UUID, p: AdminUser, session: SessionDep) -> None:
    sub = _get_sub(session, sub_id)
    sub.active = False
    _audit(session, p, "webhook.delete", sub, {})
    session.commit()


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/dead-letters", responses=errors(401, 403))
def list_dead_letters(
    p: AdminUser, session: SessionDep, offset: Offset = 0, limit: Limit = 100
) -> DeadLetters:
    """Deliveries given up after the retry window (24 h by default), newest first."""
    D = AlertDelivery
    rows = session.execute(
        select(D, AlertOutbox.seq)
        .join(AlertOutbox, AlertOutbox.id == D.alert_id)
        .where(D.status == DeliveryStatus.DEAD)
        .order_by(D.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    count = session.scalar(select(func.count()).select_from(D).where(D.status == DeliveryStatus.DEAD)) or 0
    data = [
        DeadLetter(
            id=d.id,
            alert_id=seq,
            channel=d.channel,
            target=d.target,
            attempts=d.attempts,
            due_at=d.due_at,
            last_error=d.last_error,
        )
        for d, seq in rows
    ]
    return DeadLetters(data=data, count=count)


@router.post("/dead-letters/{delivery_id}/resend", responses=errors(401, 403, 404))
def resend_dead_letter(
    delivery_id: Annotated[int, Path(ge=1, le=2**62)], p: AdminUser, session: SessionDep
) -> DeadLetter:
    """Put a dead delivery back in the queue, due now, with a fresh retry window."""
    D = AlertDelivery
    now = utcnow()
    res = session.execute(
        update(D)
        .where(D.id == delivery_id, D.status == DeliveryStatus.DEAD)
        .values(status=DeliveryStatus.PENDING, due_at=now, next_attempt_at=None, attempts=0)
    )
    if res.rowcount == 0:  # type: ignore[attr-defined]
        raise HTTPException(status.HTTP_404_NOT_FOUND, "dead letter not found")
    d = session.get_one(D, delivery_id)
    audit.append(
        session,
        actor=_actor(p),
        action="alert.resend",
        object_type="alert_delivery",
        object_id=str(delivery_id),
        site_id=d.site_id,
    )
    session.commit()
    seq = session.scalar(select(AlertOutbox.seq).where(AlertOutbox.id == d.alert_id))
    return DeadLetter(
        id=d.id,
        alert_id=seq,
        channel=d.channel,
        target=d.target,
        attempts=d.attempts,
        due_at=d.due_at,
        last_error=d.last_error,
    )


def _actor(p: Principal) -> Actor:
    return Actor.of(p.user) if p.user is not None else Actor.system("alerts")


def _audit(
    session: SessionDep, p: Principal, action: str, sub: WebhookSubscription, details: dict[str, str]
) -> None:
    audit.append(
        session,
        actor=_actor(p),
        action=action,
        object_type="webhook_subscription",
        object_id=str(sub.id),
        details=details,
    )
