"""Camera runtime on this machine: capacity, drop recovery and live-view latency (one run, printed).

    python benchmarks/cameras.py capacity [--profile models/x.yaml | --arch yolo11n.yaml]
                                          [--clip sample_videos/canteen_no_hat.mp4] [--counts 1,2,4,8,16]
                                          [--modes runtime,naive] [--threads 1] [--max-batch 8]
                                          [--reencode-clips]
    python benchmarks/cameras.py drops [--outages 3,15]
    python benchmarks/cameras.py latency [--seconds 10]

capacity: serves N copies of a clip over the local RTSP server (GStreamer, real time) and runs the
runtime (one shared batching detector) on them, then the naive way (a thread per camera calling
ultralytics ``model.track`` on its own model). A run holds when every camera gets >= 95 % of
``--fps`` frames analysed per second, the 95th-percentile lag (stream clock → analysis done) is
<= 1 s and drops stay under 5 %. Prints the largest N that holds for each, with CPU and RSS per
camera. Without ``--profile`` it uses an untrained ``--arch`` network: same compute, no boxes.
Each trial runs in a fresh process so memory and threads of one never count for the next.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.config import parse_config  # noqa: E402
from streams.sinks import CollectingSink  # noqa: E402
from streams.testing import RtspServer, make_pattern_clip  # noqa: E402


# detectors ---------------------------------------------------------------------------------
class UltralyticsDetector:
    """The benchmark's stand-in when no trained profile exists: any ultralytics model by name."""

    def __init__(self, model: str, imgsz: int) -> None:
        from ultralytics import YOLO

        self.model = YOLO(model)
        self.imgsz = imgsz
        self.class_names = tuple(str(n) for n in self.model.names.values())
        self.model_version = Path(model).stem

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[object]:
        import supervision as sv

        results = self.model.predict(list(images), imgsz=self.imgsz, verbose=False)
        return [sv.Detections.from_ultralytics(r) for r in results]


def build_detector(args: argparse.Namespace) -> object:
    if args.profile:
        from streams.runtime import load_detector

        det = load_detector(Path(args.profile), threads=args.threads)
        if args.max_batch and hasattr(det, "max_batch"):  # images per network call (vision.yolo)
            det.max_batch = args.max_batch
        return det
    if args.arch == "none":  # the runtime's own cost: decode, gate, tracker, rules, clips, health
        from streams.detect import NullDetector

        return NullDetector()
    return UltralyticsDetector(args.arch, args.imgsz)


def naive_weights(args: argparse.Namespace) -> str:
    """The same weights for the naive baseline (the profile's backend), so only the design differs."""
    if not args.profile:
        return str(args.arch)
    from vision.profile import Backend, read_profile

    prof = read_profile(Path(args.profile))
    return str(prof.weights_path(Backend(args.naive_backend) if args.naive_backend else prof.backend))


# one trial (child process) -------------------------------------------------------------------
def trial_runtime(args: argparse.Namespace, urls: list[str]) -> dict[str, object]:
    from streams.runtime import Runtime

    cams = [
        {"id": f"cam{i}", "url": u, "detect_fps": args.fps, "copy_clips": not args.reencode_clips}
        for i, u in enumerate(urls)
    ]
    tmp = tempfile.mkdtemp(prefix="bk-bench-")
    cfg = parse_config(
        {
            "sites": [{"id": "bench", "cameras": cams}],
            "http": {"enabled": False},
            "detector": {"max_batch": max(16, len(urls))},
            "health": {"tamper": True},
            "media_dir": tmp,
        }
    )
    factory = None
    if args.every_frame:
        from streams.adapter import DetectionOnlyPipeline

        def factory(ctx):  # type: ignore[no-untyped-def]
            return DetectionOnlyPipeline(ctx.detector)

    rt = Runtime(cfg, sink=CollectingSink(), detector=build_detector(args), pipeline_factory=factory)  # type: ignore[arg-type]
    rt.start()

    def counters() -> dict[str, tuple[int, int, int]]:
        return {
            cid: (w.health.frames_processed, w.health.detections, w.health.frames_dropped)
            for cid, w in rt.workers.items()
        }

    def lags() -> list[float]:
        return [(w.health.lag_s or 0.0) + (w.health.stream_lag_s or 0.0) for w in rt.workers.values()]

    try:
        return measure(args, counters, lags)
    finally:
        rt.stop()


def trial_naive(args: argparse.Namespace, urls: list[str]) -> dict[str, object]:
    import av
    from ultralytics import YOLO

    stop = threading.Event()
    state = {u: [0, 0, 0.0] for u in urls}  # processed, dropped(0), lag
    weights = naive_weights(args)

    def camera(url: str) -> None:
        model = YOLO(weights)
        model.track(np.zeros((360, 640, 3), np.uint8), imgsz=args.imgsz, verbose=False)  # warm up first
        ready.wait()
        box = av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10, 10))
        every = max(1, round(15 / args.fps))
        min_off: float | None = None
        for i, vf in enumerate(box.decode(video=0)):
            if stop.is_set():
                break
            if vf.time is None:
                continue
            off = time.monotonic() - float(vf.time)
            min_off = off if min_off is None else min(min_off, off)
            if i % every:
                continue
            model.track(vf.to_ndarray(format="bgr24"), persist=True, imgsz=args.imgsz, verbose=False)
            state[url][0] += 1
            state[url][2] = time.monotonic() - float(vf.time) - min_off
        box.close()

    ready = threading.Event()
    threads = [threading.Thread(target=camera, args=(u,), daemon=True) for u in urls]
    for t in threads:
        t.start()
    time.sleep(2 + 2 * len(urls))  # every model loaded and warmed up before the clock starts
    ready.set()

    def counters() -> dict[str, tuple[int, int, int]]:
        return {u: (int(s[0]), int(s[0]), 0) for u, s in state.items()}

    try:
        return measure(args, counters, lambda: [float(s[2]) for s in state.values()])
    finally:
        stop.set()
        for t in threads:
            t.join(15)


def measure(args: argparse.Namespace, counters, lags) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import psutil

    proc = psutil.Process()
    time.sleep(args.warmup + 0.2 * len(counters()))  # many cameras take longer to all connect
    c0, cpu0, t0 = counters(), proc.cpu_times(), time.monotonic()
    samples: list[float] = []
    while time.monotonic() - t0 < args.seconds:
        time.sleep(0.5)
        samples += lags()
    c1, cpu1, dt = counters(), proc.cpu_times(), time.monotonic() - t0
    n = len(c1)
    proc_fps = [(c1[k][0] - c0[k][0]) / dt for k in c1]
    det_fps = [(c1[k][1] - c0[k][1]) / dt for k in c1]
    drops = sum(c1[k][2] - c0[k][2] for k in c1) / max(1, sum(c1[k][0] - c0[k][0] for k in c1))
    cpu = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / dt
    p95 = float(np.percentile(samples, 95)) if samples else float("inf")
    ok = min(proc_fps) >= 0.95 * args.fps and p95 <= 1.0 and drops <= 0.05
    return {
        "n": n,
        "ok": ok,
        "min_fps": round(min(proc_fps), 2),
        "mean_det_fps": round(statistics.mean(det_fps), 2),
        "lag_p95_s": round(p95, 3),
        "drop_rate": round(drops, 3),
        "cpu_per_cam": round(100 * cpu / n, 1),
        "rss_mb_per_cam": round(proc.memory_info().rss / 2**20 / n, 1),
        "rss_mb": round(proc.memory_info().rss / 2**20, 1),
        "torch": "torch" in sys.modules,
        "load": round(os.getloadavg()[0], 1),
    }


def run_trial(args: argparse.Namespace) -> None:
    clip = Path(args.clip)
    server = RtspServer({f"cam{i}": clip for i in range(args.n)})
    server.start()
    try:
        urls = [server.url(f"cam{i}") for i in range(args.n)]
        fn = trial_naive if args.mode == "naive" else trial_runtime
        print("RESULT " + json.dumps(fn(args, urls)), flush=True)
    finally:
        server.stop()


# subcommands -------------------------------------------------------------------------------
def capacity(args: argparse.Namespace) -> None:
    clip = args.clip or str(make_pattern_clip(Path(tempfile.mkdtemp()) / "pattern.mp4", seconds=10))
    model = args.profile or ("none" if args.arch == "none" else f"{args.arch} (untrained: speed only)")
    print(f"clip {clip}; {args.fps} fps analysed per camera; imgsz {args.imgsz}; detector {model}")
    best: dict[str, int] = {}
    for mode in args.modes.split(","):
        print(
            f"\n{mode}:  n  ok  min_fps  det_fps  lag_p95_s  drops  cpu%/cam  rss_MB/cam  rss_MB  torch  load"
        )
        best[mode] = 0
        for n in (int(x) for x in args.counts.split(",")):
            cmd = [sys.executable, __file__, "_trial", "--mode", mode, "--n", str(n), "--clip", clip]
            for key in (
                "profile",
                "arch",
                "imgsz",
                "fps",
                "seconds",
                "warmup",
                "naive_backend",
                "threads",
                "max_batch",
            ):
                if getattr(args, key) is not None:
                    cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
            if args.every_frame:
                cmd.append("--every-frame")
            if args.reencode_clips:
                cmd.append("--reencode-clips")
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                print(f"  {n:3d}  trial failed: {out.stderr.strip().splitlines()[-3:]}")
                break
            r = json.loads(line[7:])
            ok = "yes" if r["ok"] else "NO "
            print(
                f"  {n:3d}  {ok}  {r['min_fps']:7.2f}  {r['mean_det_fps']:7.2f}  {r['lag_p95_s']:9.3f}"
                f"  {r['drop_rate']:5.3f}  {r['cpu_per_cam']:8.1f}  {r['rss_mb_per_cam']:10.1f}"
                f"  {r['rss_mb']:6.0f}  {'yes' if r['torch'] else 'no':>5}  {r['load']:4.1f}"
            )
            if not r["ok"]:
                break
            best[mode] = n
    print(
        f"\nlargest N holding {args.fps} fps per camera, lag <= 1 s: "
        + ", ".join(f"{m} {n}" for m, n in best.items())
    )


def drops(args: argparse.Namespace) -> None:
    """Stall detection and footage lost around server outages of the given lengths."""
    from streams.runtime import Runtime

    clip = make_pattern_clip(Path(tempfile.mkdtemp()) / "pattern.mp4", seconds=10)
    server = RtspServer({"cam0": clip})
    server.start()
    cfg = parse_config(
        {
            "sites": [{"id": "s", "cameras": [{"id": "cam0", "url": server.url("cam0")}]}],
            "http": {"enabled": False},
            "health": {"offline_after_s": 3},
            "media_dir": tempfile.mkdtemp(),
        }
    )
    rt = Runtime(cfg, sink=CollectingSink())
    rt.start()
    w = rt.workers["cam0"]
    print("outage_s  kind    noticed_s  first_frame_after_return_s  lost_s  lost_beyond_outage_s")
    try:
        for outage in (float(x) for x in args.outages.split(",")):
            for kind in ("kill", "freeze"):
                _wait(lambda: w.health.connected and (w.health.frame_age_s() or 9) < 0.2, 20)
                time.sleep(2)
                last_wall = w.hub.latest()[1].wall_time  # type: ignore[union-attr]
                t_out = time.time()
                server.kill() if kind == "kill" else server.pause()
                noticed = _wait(lambda: not w.health.connected, 30)
                time.sleep(max(0.0, t_out + outage - time.time()))
                before = w.hub.version
                server.start() if kind == "kill" else server.resume()
                t_back = time.time()
                _wait(lambda v=before: w.hub.version > v, 60, step=0.002)
                first_wall = w.hub.latest()[1].wall_time  # type: ignore[union-attr]
                lost = first_wall - last_wall  # type: ignore[operator]
                print(
                    f"{outage:8.1f}  {kind:6s}  {noticed:9.2f}  {first_wall - t_back:26.2f}  {lost:6.2f}"
                    f"  {lost - (t_back - t_out):20.2f}"
                )
    finally:
        rt.stop()
        server.stop()


def _wait(pred, timeout_s: float, step: float = 0.02) -> float:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError("condition not met")
        time.sleep(step)
    return time.monotonic() - t0


def latency(args: argparse.Namespace) -> None:
    """Live view end to end on loopback: frame handed out by the source → decoded by a WebRTC peer."""
    import av
    import httpx
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from streams.runtime import Runtime
    from streams.testing.clock import ClockSource, read_index

    src = ClockSource("clock", fps=15)
    cfg = parse_config(
        {
            "sites": [{"id": "s", "cameras": [{"id": "clock", "url": "clock.mp4", "detect_fps": 5}]}],
            "http": {"port": 0},
            "health": {"tamper": False},
            "media_dir": tempfile.mkdtemp(),
        }
    )
    rt = Runtime(cfg, sink=CollectingSink(), source_factory=lambda _spec: src)
    rt.start()
    url = f"http://127.0.0.1:{rt.http_port}/live/clock/whep"
    lat: list[float] = []
    bad = 0

    async def view() -> None:
        nonlocal bad
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("video", direction="recvonly")
        done = asyncio.Event()

        @pc.on("track")
        def _track(track) -> None:  # type: ignore[no-untyped-def]
            async def pull() -> None:
                nonlocal bad
                t_end = time.monotonic() + args.seconds
                while time.monotonic() < t_end:
                    vf: av.VideoFrame = await track.recv()
                    now = time.time()
                    sent = src.sent.get(read_index(vf.to_ndarray(format="bgr24")))
                    if sent is None or not 0 <= now - sent < 10:
                        bad += 1
                    else:
                        lat.append(now - sent)
                done.set()

            asyncio.ensure_future(pull())

        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient() as c:
            r = await c.post(
                url, content=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}
            )
        await pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        await asyncio.wait_for(done.wait(), args.seconds + 30)
        await pc.close()

    try:
        asyncio.run(view())
    finally:
        rt.stop()
    steady = lat[len(lat) // 5 :]  # skip the first second or two (ICE, first keyframe)
    print(f"live view latency, source → decoded at an aiortc peer on loopback, {len(steady)} frames:")
    med, p95 = 1000 * statistics.median(steady), 1000 * float(np.percentile(steady, 95))
    print(
        f"  median {med:.0f} ms, p95 {p95:.0f} ms, max {1000 * max(steady):.0f} ms; unreadable codes: {bad}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("capacity", "_trial"):
        p = sub.add_parser(name)
        p.add_argument("--profile", default=None, help="model profile yaml (trained detector)")
        p.add_argument(
            "--arch", default="yolo11n.yaml", help="ultralytics model without --profile; none: no model"
        )
        p.add_argument("--imgsz", type=int, default=640, help="naive and --arch input size")
        p.add_argument("--naive-backend", default=None, help="weights of the profile for the naive run")
        p.add_argument("--fps", type=float, default=5.0, help="frames analysed per camera per second")
        p.add_argument("--seconds", type=float, default=12.0)
        p.add_argument("--warmup", type=float, default=6.0)
        p.add_argument("--clip", default=None)
        p.add_argument("--every-frame", action="store_true", help="detect on every analysed frame (no gate)")
        p.add_argument(
            "--reencode-clips",
            action="store_true",
            help="clips encoded from the analysed frames (copy_clips: false) instead of stream copy",
        )
        p.add_argument("--threads", type=int, default=None, help="runtime's inference threads (default: all)")
        p.add_argument("--max-batch", type=int, default=None, help="images per network call (default: 2)")
        if name == "capacity":
            p.add_argument("--counts", default="1,2,4,8,12,16,20,24")
            p.add_argument("--modes", default="runtime,naive")
        else:
            p.add_argument("--mode", choices=("runtime", "naive"), required=True)
            p.add_argument("--n", type=int, required=True)
    p = sub.add_parser("drops")
    p.add_argument("--outages", default="3,15")
    p = sub.add_parser("latency")
    p.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    {"capacity": capacity, "_trial": run_trial, "drops": drops, "latency": latency}[args.cmd](args)


if __name__ == "__main__":
    main()
