"""Real viewers for the tests: an aiortc WHEP client, and a headless Chromium for live views and
for event clips."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

# Chromium as the environment runs it (no sandbox, no GPU, no network chatter), with mDNS host
# candidates off so a loopback peer is reachable, and autoplay allowed for a muted <video>.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


def launch_chromium(playwright: Any) -> Any:
    """The system Chromium, headless (Playwright's own browser download cannot work here)."""
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)


def chromium_plays(clip: Path, page_dir: Path) -> tuple[list[int], float]:
    """Play ``clip`` in a real Chromium past its first second; its [width, height] and duration.

    The page is a file next to nothing else in ``page_dir``; the clip is loaded by file URL.
    """
    from playwright.sync_api import sync_playwright

    page_file = page_dir / "play.html"
    page_file.write_text(f'<video id="v" muted src="{clip.resolve().as_uri()}"></video>')
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.evaluate("document.getElementById('v').play()")
            page.wait_for_function("document.getElementById('v').currentTime > 1.0", timeout=30_000)
            size, duration = page.evaluate(
                "(() => { const v = document.getElementById('v'); "
                "return [[v.videoWidth, v.videoHeight], v.duration]; })()"
            )
        finally:
            browser.close()
    return size, duration


async def whep_watch(
    url: str, n: int, headers: dict[str, str] | None = None, *, timeout: float = 30.0
) -> tuple[list[av.VideoFrame], httpx.Response, httpx.Response]:
    """WHEP as a client: POST an offer to ``url`` (201 expected), apply the answer, decode ``n``
    frames, then DELETE the session. Returns the frames, the answer and the hang-up responses."""
    headers = headers or {}
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    frames: list[av.VideoFrame] = []
    done = asyncio.Event()

    @pc.on("track")
    def _on_track(track: object) -> None:
        async def pull() -> None:
            while len(frames) < n:
                frames.append(await track.recv())  # type: ignore[attr-defined]
            done.set()

        asyncio.ensure_future(pull())

    await pc.setLocalDescription(await pc.createOffer())
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            answer = await client.post(
                url, content=pc.localDescription.sdp, headers={**headers, "Content-Type": "application/sdp"}
            )
            assert answer.status_code == 201, answer.text
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
            await asyncio.wait_for(done.wait(), 30)
            hang_up = await client.delete(
                str(httpx.URL(url).join(answer.headers["location"])), headers=headers
            )
    finally:
        await pc.close()
    return frames, answer, hang_up
