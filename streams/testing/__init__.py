"""Real components for tests and benchmarks: a local RTSP server and synthetic test clips.

Kept inside the package (not under ``tests/``) because ``benchmarks/cameras.py`` uses them too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import av
import numpy as np

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gstreamer_rtsp_available() -> bool:
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class RtspServer:
    """GStreamer's RTSP server in a child process, serving MP4 files in a loop at real time.

    The test controls it like a flaky camera: ``kill()`` (connection drops), ``pause()``
    (SIGSTOP: the TCP connection stays open but no data comes, a stall), ``resume()``,
    ``start()`` again on the same port.
    """

    def __init__(self, mounts: dict[str, Path], port: int | None = None) -> None:
        self.mounts = mounts
        self.port = port or free_port()
        self.proc: subprocess.Popen[str] | None = None

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def start(self, timeout_s: float = 30.0) -> None:
        args = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port)]
        for name, path in self.mounts.items():
            args += ["--mount", f"{name}={path}"]
        deadline = time.monotonic() + timeout_s
        while True:  # the port can stay busy for a moment after a kill
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if line.startswith("READY"):
                return
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.wait()
            if time.monotonic() > deadline:
                raise RuntimeError(f"RTSP server did not start: {line.strip()} {err.strip()}")
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
        self.kill()

    def __enter__(self) -> RtspServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def make_pattern_clip(
    path: Path,
    *,
    seconds: float = 6.0,
    fps: int = 15,
    size_wh: tuple[int, int] = (640, 360),
    gop: int = 15,
    covered_from_s: float | None = None,
) -> Path:
    """A textured scene with a moving block: H.264 yuv420p, faststart, like the sample clips.

    Texture matters: the tamper check needs edges to compare, and a flat test clip would look
    like a covered lens. From ``covered_from_s`` on, the frames are nearly black (a lens
    covered by a hand or tape).
    """
    w, h = size_wh
    rng = np.random.default_rng(7)
    tiles = rng.integers(40, 220, size=(h // 20 + 1, w // 20 + 1, 3), dtype=np.uint8)
    scene = np.kron(tiles, np.ones((20, 20, 1), dtype=np.uint8))[:h, :w].copy()
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"g": str(gop), "preset": "ultrafast", "tune": "zerolatency", "bf": "0"}
        for i in range(int(seconds * fps)):
            img = scene.copy()
            x = int((i * 7) % (w - 80))
            img[h // 3 : h // 3 + 80, x : x + 80] = (30, 30, 240)
            if covered_from_s is not None and i / fps >= covered_from_s:
                img[:] = 12
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
