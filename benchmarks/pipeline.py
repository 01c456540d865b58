"""Throughput of the vision pipeline on the sample set, against its floor and the naive way.

    .venv/bin/python benchmarks/pipeline.py --profile models/kitchen-yolo11n.yaml
    .venv/bin/python benchmarks/pipeline.py --oracle        # no model: the pipeline's own cost
    .venv/bin/python benchmarks/pipeline.py --profile models/kitchen-yolo11n.yaml --threads 0,1
    .venv/bin/python benchmarks/pipeline.py --profile models/kitchen-yolo11n-2stage.yaml \
        --compare models/kitchen-yolo11n.yaml   # two profiles against the same (a) and (b)

Prints, from one run, in video-seconds per CPU-second (higher is better; CPU time counts every
thread of the process, so it does not flatter multi-threaded backends):

(a) decode only: PyAV decode, nothing else (the floor of cost; frames are not converted to BGR,
    as the pipeline converts only those the detector or a clip needs);
(b) naive ultralytics: ``YOLO(weights).track(frame, persist=True)`` on every frame with the
    PyTorch model, the way most users start;
(c) this pipeline: the sample clips run as cameras of one process, frames interleaved and
    detection batched across them as the runtime does (``--one-by-one`` adds a line with the
    clips one after another, a single file's cost); motion gate, the profile's (fastest)
    backend, ByteTrack, rules, clips cut
    from the file's own H.264 packets (stream copy, as ``brightkitchen analyze`` does;
    ``--reencode`` adds a line with clips re-encoded from decoded frames);
the ratios c/b and c/a, the fraction of frames sent to the detector, and the peak RSS of one
process running ``--cameras`` cameras (default 8) with batched detection. ``--threads 0,1`` runs
(c) once per inference thread count (0: the runtime's default) against the same (b); on a
machine shared with other jobs one thread usually costs less CPU per frame.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vision.decode import PacketTap, probe, read_frames  # noqa: E402
from vision.detector import Detector  # noqa: E402
from vision.evaluate import clip_rules  # noqa: E402
from vision.pipeline import CameraPipeline, CameraSetup, process_batch  # noqa: E402
from vision.sinks import JsonlSink  # noqa: E402
from vision.types import Frame  # noqa: E402


def frames_of(
    clip: Path, limit_s: float | None, camera_id: str = "bench", tap: PacketTap | None = None
) -> Iterator[Frame]:
    n = None if limit_s is None else int(limit_s * probe(clip).fps)
    return islice(read_frames(clip, camera_id=camera_id, tap=tap), n)


def video_seconds(clip: Path, limit_s: float | None) -> float:
    info = probe(clip)
    total = info.frames / info.fps
    return total if limit_s is None else min(total, limit_s)


def decode_only(clips: list[Path], limit_s: float | None) -> tuple[float, float]:
    cpu0 = time.process_time()
    for clip in clips:
        for _ in frames_of(clip, limit_s):
            pass
    return sum(video_seconds(c, limit_s) for c in clips), time.process_time() - cpu0


def naive_track(weights: Path, clips: list[Path], limit_s: float | None) -> tuple[float, float]:
    from ultralytics import YOLO

    cpu0 = time.process_time()
    for clip in clips:
        model = YOLO(str(weights))  # a fresh tracker per video, as a user script would do
        for frame in frames_of(clip, limit_s):
            model.track(frame.image, persist=True, verbose=False)
    return sum(video_seconds(c, limit_s) for c in clips), time.process_time() - cpu0


DETECT_FPS: float | None = 5.0
STREAM_COPY = True  # clips by stream copy of the source's packets (as `analyze` does); False: re-encode
DETECTOR_KW: dict[str, int] = {}  # load_profile options (threads, max_batch); absent: its defaults
CALM_WHEN_REPORTED = False  # CameraSetup.calm_when_reported for every (c) line


def setup_for(clip: Path, media: Path, camera_id: str) -> CameraSetup:
    import json

    gt = clip.with_suffix(".json")
    if not gt.exists():
        return CameraSetup(
            camera_id=camera_id,
            media_dir=media,
            fps=probe(clip).fps,
            max_detect_fps=DETECT_FPS,
            calm_when_reported=CALM_WHEN_REPORTED,
        )
    doc = json.loads(gt.read_text())
    return CameraSetup(
        camera_id=camera_id,
        media_dir=media,
        rules=clip_rules(doc),
        recorded_at=datetime.fromisoformat(doc["camera"]["recorded_at"]),
        fps=probe(clip).fps,
        max_detect_fps=DETECT_FPS,
        calm_when_reported=CALM_WHEN_REPORTED,
    )


def pipeline_cameras(
    detector_for: Callable[[Path], Detector], clips: list[Path], limit_s: float | None, out: Path
) -> dict[str, float]:
    """Run one pipeline per clip, all in this process, frames interleaved and detection batched."""
    pipes = []
    for i, clip in enumerate(clips):
        cam = f"cam{i}-{clip.stem}"
        pipes.append(
            CameraPipeline(setup_for(clip, out / cam, cam), detector_for(clip), JsonlSink(out / cam))
        )
    streams = [
        iter(frames_of(c, limit_s, p.setup.camera_id, p.recorder if STREAM_COPY else None))
        for c, p in zip(clips, pipes, strict=True)
    ]
    cpu0 = time.process_time()
    live = list(range(len(pipes)))
    while live:
        step = []
        for i in list(live):
            frame = next(streams[i], None)
            if frame is None:
                live.remove(i)
            else:
                step.append((pipes[i], frame))
        if step:
            process_batch(step)
    for p in pipes:
        p.close()
    cpu = time.process_time() - cpu0
    frames = sum(p.frames for p in pipes)
    sent = sum(p.frames * p.detect_fraction for p in pipes)
    return {
        "video_s": sum(video_seconds(c, limit_s) for c in clips),
        "cpu_s": cpu,
        "detect_fraction": sent / frames if frames else 0.0,
        "events": float(sum(len(p.closed) for p in pipes)),
        "peak_rss_mb": peak_rss_mb(),
        "torch_loaded": float("torch" in sys.modules),
    }


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ``ru_maxrss``: Linux carries it over fork + exec, so a child
    spawned by a parent that has loaded torch for the naive run would report the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _detector_factory(profile: Path | None, oracle: bool) -> Callable[[Path], Detector]:
    if oracle:
        from vision.synth.oracle import GroundTruthDetector

        return lambda clip: GroundTruthDetector(clip)
    from vision.yolo import load_profile  # type: ignore[import-not-found,unused-ignore]

    assert profile is not None
    model, _ = load_profile(profile, **DETECTOR_KW)  # type: ignore[arg-type]
    return lambda clip: model


def _child(
    args: tuple[Path | None, bool, list[Path], float | None, float | None, bool, bool, dict[str, int], bool],
    queue: Any,
) -> None:
    """In a fresh process, so the peak RSS is the pipeline's and not the benchmark's."""
    global DETECT_FPS, STREAM_COPY, DETECTOR_KW, CALM_WHEN_REPORTED
    profile, oracle, clips, limit_s, DETECT_FPS, STREAM_COPY, one_by_one, DETECTOR_KW, calm = args
    CALM_WHEN_REPORTED = calm
    detector_for = _detector_factory(profile, oracle)
    with tempfile.TemporaryDirectory() as tmp:
        if not one_by_one:
            queue.put(pipeline_cameras(detector_for, clips, limit_s, Path(tmp)))
            return
        runs = [pipeline_cameras(detector_for, [c], limit_s, Path(tmp) / str(i)) for i, c in enumerate(clips)]
        total = {k: sum(r[k] for r in runs) for k in ("video_s", "cpu_s", "events")}
        # each clip's share of frames sent to the detector, weighted by its length
        total["detect_fraction"] = sum(r["detect_fraction"] * r["video_s"] for r in runs) / total["video_s"]
        total["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        total["torch_loaded"] = max(r["torch_loaded"] for r in runs)
        queue.put(total)


def run_isolated(
    profile: Path | None,
    oracle: bool,
    clips: list[Path],
    limit_s: float | None,
    stream_copy: bool = True,
    one_by_one: bool = False,
    detector_kw: dict[str, int] | None = None,
) -> dict[str, float]:
    """``one_by_one``: the clips one after another (a single file's cost: no batching across
    cameras); else all at once, frames interleaved and detection batched as the runtime does."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(
        target=_child,
        args=(
            (
                profile,
                oracle,
                clips,
                limit_s,
                DETECT_FPS,
                stream_copy,
                one_by_one,
                detector_kw or {},
                CALM_WHEN_REPORTED,
            ),
            queue,
        ),
    )
    proc.start()
    result: dict[str, float] = queue.get()
    proc.join()
    return result


def weights_of(profile: Path) -> Path | None:
    """The PyTorch weights named in a model profile (for the naive baseline)."""
    from vision.profile import Backend, read_profile

    p = read_profile(profile)
    return p.weights_path(Backend.PYTORCH) if Backend.PYTORCH in p.weights else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", type=Path, help="model profile (models/*.yaml)")
    ap.add_argument("--oracle", action="store_true", help="ground-truth detector instead of a model")
    ap.add_argument(
        "--weights", type=Path, help="PyTorch weights for the naive baseline (default: from profile)"
    )
    ap.add_argument("--clips", type=Path, nargs="*", help="default: sample_videos/*.mp4")
    ap.add_argument("--seconds", type=float, default=None, help="only the first N seconds of each clip")
    ap.add_argument("--cameras", type=int, default=8, help="cameras in one process for the RSS figure")
    ap.add_argument("--detect-fps", type=float, default=5.0, help="most detections/s per camera (0: no cap)")
    ap.add_argument(
        "--calm-when-reported",
        action="store_true",
        help="cameras whose only suspicions are open person events run at the calm rate (CameraSetup)",
    )
    ap.add_argument("--max-batch", type=int, help="images per network call (default: the detector's)")
    ap.add_argument(
        "--threads",
        default="0",
        help="comma-separated inference threads, one (c) line each (0: the runtime's default, all cores)",
    )
    ap.add_argument(
        "--one-by-one",
        action="store_true",
        help="one more (c) line with the clips run one after another (no batching across cameras)",
    )
    ap.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        default=[],
        metavar="PROFILE",
        help="one more (c) line per profile, against the same (a) and (b): profiles compared in one run",
    )
    ap.add_argument(
        "--reencode",
        action="store_true",
        help="one more (c) line with clips re-encoded from decoded frames instead of stream copy",
    )
    a = ap.parse_args()
    global DETECT_FPS, CALM_WHEN_REPORTED
    DETECT_FPS = a.detect_fps or None
    CALM_WHEN_REPORTED = a.calm_when_reported
    kw = {"max_batch": a.max_batch} if a.max_batch else {}
    threads = [int(t) for t in a.threads.split(",")]
    if not a.oracle and a.profile is None:
        ap.error("--profile is required (or --oracle)")
    clips = a.clips or sorted((REPO / "sample_videos").glob("*.mp4"))
    if a.oracle:
        clips = [c for c in clips if c.with_suffix(".json").exists()]
    print(
        f"{len(clips)} clips, {sum(video_seconds(c, a.seconds) for c in clips):.0f} video-seconds; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )

    vs, cpu = decode_only(clips, a.seconds)
    rate_a = vs / cpu
    print(f"(a) decode only               {rate_a:8.1f} video-s per CPU-s")

    weights = a.weights or (weights_of(a.profile) if a.profile else None)
    rate_b = None
    if weights is not None and weights.exists():
        vs, cpu = naive_track(weights, clips, a.seconds)
        rate_b = vs / cpu
        print(f"(b) naive ultralytics .track  {rate_b:8.2f} video-s per CPU-s  ({weights.name}, every frame)")
    else:
        print("(b) naive ultralytics .track  skipped (no .pt weights: --weights or a profile naming them)")

    cap = f"at most {DETECT_FPS:g} detections/s" if DETECT_FPS else "no detection cap"
    cap += ", calm when reported" if CALM_WHEN_REPORTED else ""
    runs = [(a.profile, th, True, False) for th in threads]
    runs += [(a.profile, threads[0], False, False)] if a.reencode else []
    runs += [(a.profile, threads[0], True, True)] if a.one_by_one else []
    runs += [(p, threads[0], True, False) for p in a.compare]
    for profile, th, copy, one_by_one in runs:
        oracle = a.oracle and profile == a.profile  # --compare lines are always models
        backend = "oracle" if oracle else str(profile)
        c = run_isolated(
            profile, oracle, clips, a.seconds, copy, one_by_one, {**kw, **({"threads": th} if th else {})}
        )
        rate_c = c["video_s"] / c["cpu_s"]
        how = "one clip at a time" if one_by_one else f"{len(clips)} clips as cameras, detection batched"
        print(
            f"(c) this pipeline             {rate_c:8.2f} video-s per CPU-s  ({backend}, motion gate, {cap}, "
            f"{th or 'default'} inference threads, clips by {'stream copy' if copy else 're-encoding'}; "
            f"{how})"
        )
        if rate_b:
            print(f"    c/b = {rate_c / rate_b:.1f}x   (aim >= 8x)")
        print(f"    c/a = {rate_c / rate_a:.2f}")
        print(f"    frames sent to the detector: {c['detect_fraction']:.0%}; events: {c['events']:.0f}")

    multi = [clips[i % len(clips)] for i in range(a.cameras)]
    m = run_isolated(
        a.profile,
        a.oracle,
        multi,
        a.seconds,
        detector_kw={**kw, **({"threads": threads[0]} if threads[0] else {})},
    )
    print(
        f"{a.cameras} cameras in one process: peak RSS {m['peak_rss_mb']:.0f} MB (aim <= 600), "
        f"{m['video_s'] / m['cpu_s']:.2f} video-s per CPU-s, "
        f"torch {'loaded' if m['torch_loaded'] else 'not loaded'} in it"
    )
    print(f"load average at the end {os.getloadavg()[0]:.1f} (other jobs on this machine slow every line)")


if __name__ == "__main__":
    main()
