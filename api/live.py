"""The API's client of the camera runtime's live view (``streams.live``), used by ``api.routes.live``.

The API decides who may watch; the runtime holds the cameras and the WebRTC peers. An offer is
forwarded to the runtime's WHEP route with the shared token (``BK_LIVE_TOKEN``, the value of the
runtime's ``http.token_env`` variable) in place of the user's own token, which never leaves the API.
Errors come back as ``LiveError`` with an HTTP status and a one-line message that names no secret.

Example::

    proxy = LiveProxy.from_settings(settings)
    answer = proxy.offer(LiveRoute.PRIVATE, "cam-a", offer_sdp)  # LiveAnswer(sdp=..., session=...)
    proxy.hang_up(LiveRoute.PRIVATE, "cam-a", answer.session)
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

import httpx

from api.settings import Settings

log = logging.getLogger("api.live")
SESSION_RE = r"^[0-9a-f]{32}$"  # the runtime's session ids (uuid4 hex)


class LiveRoute(StrEnum):
    """The runtime's route family: staff/regulator view, or the anonymous blurred view."""

    PRIVATE = "live"
    PUBLIC = "public"


class LiveError(Exception):
    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail = status_code, detail


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    sdp: str
    session: str


@dataclass(frozen=True, slots=True)
class LiveProxy:
    base_url: str  # empty: live view off
    token: str | None
    timeout_s: float

    @staticmethod
    def from_settings(settings: Settings) -> LiveProxy:
        token = settings.live_token.get_secret_value() if settings.live_token is not None else None
        return LiveProxy(settings.live_url.rstrip("/"), token, settings.live_timeout_s)

    def __repr__(self) -> str:  # never print the token
        return f"LiveProxy(base_url={self.base_url!r}, token={'set' if self.token else 'none'})"

    def offer(self, route: LiveRoute, camera_key: str, sdp: str, *, overlay: bool = False) -> LiveAnswer:
        """Forward a WHEP offer; the runtime's answer and the session id from its ``Location``."""
        params = {"overlay": "1"} if overlay and route is LiveRoute.PRIVATE else {}
        r = self._call("POST", self._path(route, camera_key), content=sdp.encode(), params=params)
        if r.status_code == 201:
            session = r.headers.get("location", "").rstrip("/").rsplit("/", 1)[-1]
            if not re.fullmatch(SESSION_RE, session):
                raise LiveError(502, "the live-view runtime answered without a valid session location")
            return LiveAnswer(r.text, session)
        if r.status_code == 400:
            raise LiveError(400, r.text[:300] or "the live-view runtime refused the SDP offer")
        raise self._refused(r)

    def hang_up(self, route: LiveRoute, camera_key: str, session: str) -> bool:
        """End a session; False when the runtime no longer has it (or it is another camera's)."""
        r = self._call("DELETE", f"{self._path(route, camera_key)}/{session}")
        if 200 <= r.status_code < 300:
            return True
        if r.status_code == 404:
            return False
        raise self._refused(r)

    def _path(self, route: LiveRoute, camera_key: str) -> str:
        return f"/{route.value}/{quote(camera_key, safe='')}/whep"

    def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        if not self.base_url:
            raise LiveError(503, "live view is not configured on this server (BK_LIVE_URL is empty)")
        headers = {"Content-Type": "application/sdp"} if method == "POST" else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout_s, trust_env=False) as client:
                return client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            log.warning("live-view runtime at %s timed out (%s)", self.base_url, method)
            raise LiveError(503, "the live-view runtime did not answer in time") from None
        except httpx.HTTPError as exc:
            log.warning("live-view runtime at %s unreachable: %s", self.base_url, type(exc).__name__)
            raise LiveError(503, "the live-view runtime is unreachable") from None

    def _refused(self, r: httpx.Response) -> LiveError:
        if r.status_code == 404:
            return LiveError(404, "this camera has no live view on the runtime")
        if r.status_code in (401, 403):
            log.error("live-view runtime refused the API's credentials (HTTP %d)", r.status_code)
            return LiveError(
                502, "the live-view runtime refused the API (BK_LIVE_TOKEN and the runtime's token differ)"
            )
        log.error("live-view runtime answered HTTP %d", r.status_code)
        return LiveError(502, f"the live-view runtime failed (HTTP {r.status_code})")
