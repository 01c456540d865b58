"""Passwords (argon2), short-lived access tokens (JWT, HS256), login throttling, log redaction.

Built once per app in ``lifespan`` from ``Settings``; reached through ``api.deps``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.models import Role, User
from api.settings import Settings

ALGORITHM = "HS256"


class PasswordService:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verified against when the user does not exist, so both answers take the same time.
        self._dummy = self._hasher.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: uuid.UUID
    role: Role
    expires_at: datetime


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.secret_key.get_secret_value()
        self.ttl_s = settings.access_token_ttl_s

    def issue(self, user: User, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {
            "sub": str(user.id),
            "role": user.role.value,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl_s)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        try:
            data = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "iat"]}
            )
            if data.get("typ") != "access":
                raise InvalidToken("not an access token")
            return TokenClaims(
                uuid.UUID(data["sub"]), Role(data["role"]), datetime.fromtimestamp(data["exp"], UTC)
            )
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class MediaClaims:
    user_id: uuid.UUID
    event_id: uuid.UUID
    kind: str


class MediaLinks:
    """Short-lived signed links to one clip/snapshot for one user.

    A browser's ``<video src>`` cannot send an Authorization header, so the player gets a URL
    carrying this token instead. It opens that one file only; the user's scope is still checked
    on every request, and each request is audited like any other view.
    """

    def __init__(self, settings: Settings) -> None:
        self._secret = "media:" + settings.secret_key.get_secret_value()  # never valid as an access token
        self.ttl_s = settings.media_link_ttl_s

    def issue(
        self, user: User, event_id: uuid.UUID, kind: str, now: datetime | None = None
    ) -> tuple[str, datetime]:
        now = now or datetime.now(UTC)
        expires = now + timedelta(seconds=self.ttl_s)
        claims = {
            "sub": str(user.id),
            "evt": str(event_id),
            "kind": kind,
            "typ": "media",
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires

    def decode(self, token: str) -> MediaClaims:
        try:
            data = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "evt", "kind"]},
            )
            if data.get("typ") != "media":
                raise InvalidToken("not a media link")
            return MediaClaims(uuid.UUID(data["sub"]), uuid.UUID(data["evt"]), str(data["kind"]))
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc


class Throttled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class LoginThrottle:
    """Failed logins per key (username, client address) in a sliding window.

    In memory, per process: enough for one API process; replicas would share it through Redis.
    """

    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                q = self._prune(key, now)
                limit = self.max_failures * (4 if key.startswith("ip:") else 1)
                if len(q) >= limit:
                    raise Throttled(max(1, int(q[0] + self.window_s - now + 0.999)))

    def fail(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q


_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:password|passwd|secret|token|access_token|access)\s*[=:]\s*)[^\s&,;\"']+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
)


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_redacted, text)
    return text


def _redacted(m: re.Match[str]) -> str:
    return (m.group(1) if m.re.groups else "") + "[redacted]"


class RedactSecretsFilter(logging.Filter):
    """Belt and braces: nothing logs tokens on purpose, and this scrubs anything that slips."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Attach the filter to the root handlers and the loggers that print requests."""
    flt = RedactSecretsFilter()
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error", "api", "httpx"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in logger.filters):
            logger.addFilter(flt)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
                handler.addFilter(flt)
