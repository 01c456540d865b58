"""Webhook channel: signed HTTP POSTs to subscriber URLs, through the SSRF guard.

Each alert is one POST with the alert JSON as body (a digest is one POST with a ``Digest``),
signed per ``api/alerts/signing.py``. Only a 2xx answer counts as delivered; redirects are not
followed (a redirect could lead to a private address the policy refused).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from api.alerts.payload import Alert, Digest
from api.alerts.signing import ALERT_ID_HEADER, sign_headers
from api.alerts.sinks import SendResult
from api.alerts.tiers import Cadence
from api.alerts.urlpolicy import UrlPolicy, UrlRefused

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """What the sink needs about one subscription: its URL and its active secrets."""

    url: str
    secrets: tuple[str, ...]


TargetLookup = Callable[[str], WebhookTarget | None]


class WebhookSink:
    """POSTs alerts to the subscription named by ``target`` (its id), in order."""

    name = "webhook"

    def __init__(self, lookup: TargetLookup, policy: UrlPolicy, *, timeout_s: float = 10.0):
        self._lookup = lookup
        self._policy = policy
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False)

    def send(self, target: str, alerts: Sequence[Alert], cadence: Cadence) -> SendResult:
        sub = self._lookup(target)
        if sub is None:
            return SendResult(0, f"subscription {target} is gone or inactive")
        if cadence is not Cadence.IMMEDIATE:
            ok, error = self._post(
                sub, Digest(cadence=cadence.value, alerts=list(alerts)).to_json(), "digest"
            )
            return SendResult(len(alerts) if ok else 0, error)
        for done, alert in enumerate(alerts):
            ok, error = self._post(sub, alert.to_json(), str(alert.alert_id))
            if not ok:
                return SendResult(done, error)
        return SendResult(len(alerts))

    def _post(self, sub: WebhookTarget, body: bytes, alert_id: str) -> tuple[bool, str | None]:
        try:
            resolved = self._policy.resolve(sub.url)
        except UrlRefused as exc:
            return False, f"refused by the URL policy: {exc}"
        default_port = 443 if resolved.connect_url.startswith("https") else 80
        port = httpx.URL(resolved.connect_url).port or default_port
        host_header = resolved.host if port == default_port else f"{resolved.host}:{port}"
        headers = {
            "Content-Type": "application/json",
            "Host": host_header,
            "User-Agent": "brightkitchen-alerts/1",
            ALERT_ID_HEADER: alert_id,
            **sign_headers(body, sub.secrets),
        }
        try:
            resp = self._client.post(
                resolved.connect_url,
                content=body,
                headers=headers,
                extensions={"sni_hostname": resolved.host},
            )
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= resp.status_code < 300:
            return True, None
        return False, f"HTTP {resp.status_code}"

    def close(self) -> None:
        self._client.close()
