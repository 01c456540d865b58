"""Rows of the API's authorization matrix (tests/api/test_authz_matrix.py) for the alert routes.

Every alert HTTP route is admin-only. Path parameters are created on demand (a subscription, a
dead delivery) so the matrix's fixture stays the API suite's own. ``/ws/alerts`` is not in the
OpenAPI table; its per-site authorization is tested in tests/alerts/test_ws.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from api.alerts.outbox import AlertDelivery, AlertOutbox, Channel, DeliveryStatus, WebhookSubscription
from api.alerts.tiers import Audience, Cadence

ROLES = ("admin", "reg_x", "reg_y", "staff_a", "staff_b", "public")
ADMIN_ONLY = {**dict.fromkeys(ROLES, 403), "admin": "ok", "public": 401}


def _subscription(w: Any) -> str:
    with w.services.session_factory() as s:
        sub = WebhookSubscription(url="https://hooks.example.org/bk", audience=Audience.SITE, secret="x" * 20)
        s.add(sub)
        s.commit()
        return str(sub.id)


def _dead_delivery(w: Any) -> str:
    with w.services.session_factory() as s:
        alert = s.scalars(select(AlertOutbox).order_by(AlertOutbox.id)).first()
        assert alert is not None, "the matrix fixture ingests events, which enqueue alerts"
        d = AlertDelivery(
            alert_id=alert.id,
            channel=Channel.WEBHOOK,
            target=uuid.uuid4().hex,
            site_id=alert.site_id,
            cadence=Cadence.IMMEDIATE,
            status=DeliveryStatus.DEAD,
            due_at=datetime.now(UTC),
            attempts=3,
            last_error="HTTP 500",
        )
        s.add(d)
        s.commit()
        return str(d.id)


def _json(data: dict[str, Any]) -> Callable[[Any, Any], dict[str, Any]]:
    return lambda f, w: {"json": data}


def _no_params(f: Any, w: Any) -> dict[str, str]:
    return {}


ALERT_ROWS: dict[
    tuple[str, str], tuple[Callable[..., dict[str, str]], Callable[..., dict[str, Any]], dict[str, Any]]
] = {
    ("GET", "/api/alerts/webhooks"): (_no_params, _json({}), ADMIN_ONLY),
    ("POST", "/api/alerts/webhooks"): (
        _no_params,
        _json({"url": "https://93.184.216.34/bk", "audience": "regulator"}),
        ADMIN_ONLY,
    ),
    ("POST", "/api/alerts/webhooks/{sub_id}/rotate"): (
        lambda f, w: {"sub_id": _subscription(w)},
        _json({}),
        ADMIN_ONLY,
    ),
    ("POST", "/api/alerts/webhooks/{sub_id}/retire-old"): (
        lambda f, w: {"sub_id": _subscription(w)},
        _json({}),
        ADMIN_ONLY,  # 409 for the admin (no rotation in progress) counts as allowed
    ),
    ("DELETE", "/api/alerts/webhooks/{sub_id}"): (
        lambda f, w: {"sub_id": _subscription(w)},
        _json({}),
        ADMIN_ONLY,
    ),
    ("GET", "/api/alerts/dead-letters"): (_no_params, _json({}), ADMIN_ONLY),
    ("POST", "/api/alerts/dead-letters/{delivery_id}/resend"): (
        lambda f, w: {"delivery_id": _dead_delivery(w)},
        _json({}),
        ADMIN_ONLY,
    ),
}
