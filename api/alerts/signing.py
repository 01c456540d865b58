"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"``.

The timestamp is signed with the body so a captured request cannot be replayed later, and the
receiver refuses timestamps older than ``tolerance_s`` (5 minutes). During a secret rotation a
subscription has two active secrets; the sender signs with both and the receiver accepts either.

Headers on every delivery::

    X-BK-Timestamp: 1732521600
    X-BK-Signature: v1=5d41...,v1=7c2e...

Example (a receiver)::

    verify_signature(body, request.headers, secrets=["whsec_..."])  # raises InvalidSignature
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

TIMESTAMP_HEADER = "X-BK-Timestamp"
SIGNATURE_HEADER = "X-BK-Signature"
ALERT_ID_HEADER = "X-BK-Alert-Id"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


class InvalidSignature(ValueError):
    """The request was not signed by a current secret, or is too old / from the future."""


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``b"<timestamp>." + body`` with ``secret``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return mac.hexdigest()


def sign_headers(body: bytes, secrets: Sequence[str], now_s: float | None = None) -> dict[str, str]:
    """Headers for one delivery, signed with every active secret (one or two during rotation)."""
    if not secrets:
        raise ValueError("a webhook subscription needs at least one active secret")
    ts = int(time.time() if now_s is None else now_s)
    sigs = ",".join(f"{SCHEME}={compute_signature(s, ts, body)}" for s in secrets)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sigs}


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise InvalidSignature(f"missing header {name}")


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now_s: float | None = None,
) -> int:
    """Reference verifier for receivers: return the signed timestamp or raise ``InvalidSignature``.

    Checks, in order: both headers present, timestamp an integer within ``tolerance_s`` of now
    (either direction), and one ``v1`` signature equal (constant-time) to the HMAC of any of the
    receiver's ``secrets``. Verify the raw body bytes, before any JSON parsing.
    """
    raw_ts = _header(headers, TIMESTAMP_HEADER)
    try:
        ts = int(raw_ts)
    except ValueError:
        raise InvalidSignature(f"timestamp {raw_ts!r} is not an integer") from None
    now = time.time() if now_s is None else now_s
    if abs(now - ts) > tolerance_s:
        raise InvalidSignature(f"timestamp {ts} is outside the {tolerance_s} s tolerance")
    offered = [
        part.split("=", 1)[1]
        for part in _header(headers, SIGNATURE_HEADER).split(",")
        if part.strip().startswith(f"{SCHEME}=")
    ]
    for secret in secrets:
        expected = compute_signature(secret, ts, body)
        if any(hmac.compare_digest(expected, sig.strip()) for sig in offered):
            return ts
    raise InvalidSignature("no signature matches an active secret")
