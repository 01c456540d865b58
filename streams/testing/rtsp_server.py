#!/usr/bin/python3
"""A real RTSP server for tests and benchmarks: GStreamer's RTSP server looping MP4 files.

Runs under the system Python (``/usr/bin/python3``, which has GStreamer's ``gi`` bindings), not
the project's venv. Each mount serves one H.264 MP4 file in an endless loop at real time
without re-encoding: the file's access units are read once into memory, then pushed into an
``appsrc`` at the file's frame rate, so N cameras cost N packet pushers, not N encoders.

    /usr/bin/python3 streams/testing/rtsp_server.py --port 8554 --mount cam0=clip.mp4

Prints ``READY <port>`` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"


def read_access_units(path: str) -> tuple[list[bytes], float]:
    """Every H.264 access unit of the file (Annex B, SPS/PPS before each IDR) and its fps."""
    pipe = Gst.parse_launch(
        f'filesrc location="{path}" ! qtdemux ! h264parse config-interval=-1 ! {CAPS} '
        "! appsink name=sink sync=false emit-signals=false"
    )
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    units: list[bytes] = []
    fps = 15.0
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        if not units:
            s = sample.get_caps().get_structure(0)
            ok, num, den = s.get_fraction("framerate")
            if ok and num > 0 and den > 0:
                fps = num / den
        buf = sample.get_buffer()
        units.append(buf.extract_dup(0, buf.get_size()))
    pipe.set_state(Gst.State.NULL)
    if not units:
        raise SystemExit(f"no H.264 video in {path}")
    return units, fps


class LoopFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, units: list[bytes], fps: float) -> None:
        super().__init__()
        self.units, self.fps = units, fps
        self.set_shared(True)
        self.set_launch(
            f"( appsrc name=src is-live=true format=time do-timestamp=true caps={CAPS} "
            "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
        self.connect("media-configure", self._configure)

    def _configure(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        src = media.get_element().get_child_by_name("src")
        stop = threading.Event()
        media.connect("unprepared", lambda *_: stop.set())
        threading.Thread(target=self._feed, args=(src, stop), daemon=True).start()

    def _feed(self, src: Gst.Element, stop: threading.Event) -> None:
        t0 = time.monotonic()
        i = 0
        while not stop.is_set():
            delay = t0 + i / self.fps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            data = self.units[i % len(self.units)]
            ret = src.emit("push-buffer", Gst.Buffer.new_wrapped(data))
            if ret not in (Gst.FlowReturn.OK,):
                return
            i += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mount", action="append", default=[], help="NAME=FILE.mp4 (repeatable)")
    args = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    cache: dict[str, tuple[list[bytes], float]] = {}
    for spec in args.mount:
        name, _, path = spec.partition("=")
        if path not in cache:
            cache[path] = read_access_units(path)
        mounts.add_factory("/" + name.strip("/"), LoopFactory(*cache[path]))
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{args.port}")
    print(f"READY {args.port}", flush=True)
    try:
        GLib.MainLoop().run()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
