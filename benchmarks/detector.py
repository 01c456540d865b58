"""Detector speed per backend on this machine, in one run: PyTorch, ONNX Runtime, OpenVINO.

    .venv/bin/python benchmarks/detector.py [--profile models/kitchen-yolo11n.yaml] [--iters 20]
                                            [--backends openvino] [--batches 1,2,4,8] [--threads 1,2]
    # FP32 against INT8 OpenVINO, one row each (backends a profile has no weights for are skipped)
    .venv/bin/python benchmarks/detector.py --profile models/kitchen-yolo11n.yaml \
        --profile models/kitchen-yolo11n-int8.yaml --backends openvino

Times ``YoloDetector.detect`` end to end (letterbox, network, NMS, boxes back to the frame) on
rendered 640x360 kitchen frames at the profile's input size, for each batch size (one network
call per batch: ``max_batch`` is raised to the largest size), and prints ms/frame, frames/s, and
the speed-up of the fastest backend over PyTorch (and, with several profiles, of each profile
over the first, same backend). Each backend runs with 1 thread and with all
cores: on a busy machine PyTorch's OpenMP pool collapses with 2 threads. Batch sizes are timed
in interleaved rounds so a change of machine load hits them alike.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.profile import Backend, read_profile
from vision.synth.generate import build_scenario, random_spec
from vision.synth.render import Renderer
from vision.yolo import YoloDetector


def _frames(n: int) -> list[npt.NDArray[np.uint8]]:
    out = []
    for seed in range(900_100, 900_100 + n):
        img, _ = Renderer(build_scenario(random_spec(seed))).render(5.0, 75)
        out.append(img)
    return out


def _ms_per_frame(
    det: YoloDetector, frames: list[npt.NDArray[np.uint8]], batches: list[int], iters: int
) -> dict[int, float]:
    """Median ms/frame per batch size; sizes alternate within each round."""
    for b in batches:  # warm-up: first calls allocate
        det.detect(frames[:b])
        det.detect(frames[:b])
    times: dict[int, list[float]] = {b: [] for b in batches}
    for _ in range(iters):
        for b in batches:
            for _ in range(max(1, max(batches) // b)):  # the same number of frames per size
                t0 = time.perf_counter()
                det.detect(frames[:b])
                times[b].append((time.perf_counter() - t0) / b)
    return {b: 1000.0 * float(np.median(t)) for b, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--profile", type=Path, action="append", help="repeat to compare models (default: kitchen-yolo11n)"
    )
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 2}", help="comma-separated thread counts")
    ap.add_argument("--batches", default="1,2,4,8", help="comma-separated batch sizes")
    ap.add_argument("--backends", default=",".join(b.value for b in Backend), help="comma-separated")
    a = ap.parse_args()
    threads = sorted({int(t) for t in a.threads.split(",")})
    batches = sorted({int(b) for b in a.batches.split(",")})
    backends = [Backend(b) for b in a.backends.split(",")]
    profiles = [read_profile(p) for p in (a.profile or [Path("models/kitchen-yolo11n.yaml")])]
    frames = _frames(max(batches))
    rounds = max(3, a.iters // max(batches))
    results: dict[tuple[str, Backend, int, int], float] = {}
    size = ""
    load0 = os.getloadavg()[0]
    for profile in profiles:
        for backend in (b for b in backends if b in profile.weights):
            for th in threads:
                det = YoloDetector(profile, backend=backend, threads=th, max_batch=max(batches))
                size = f"{profile.input_size.width}x{profile.input_size.height}"
                for batch, ms in _ms_per_frame(det, frames, batches, rounds).items():
                    results[(profile.name, backend, th, batch)] = ms
                del det
    load = os.getloadavg()[0]
    print(
        f"input {size}, frames 640x360, median over {rounds} rounds, load average {load0:.1f} -> {load:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(f"{'model':<24} {'backend':<10} {'threads':>7} {'batch':>5} {'ms/frame':>9} {'frames/s':>9}")
    for (name, backend, th, batch), ms in results.items():
        print(f"{name:<24} {backend.value:<10} {th:>7} {batch:>5} {ms:>9.1f} {1000.0 / ms:>9.1f}")
    for batch in batches:
        best = {
            (n, b): min(results[(n, b, t, batch)] for t in threads)
            for n, b, t, bt in results
            if bt == batch and t == threads[0]
        }
        fastest = min(best, key=lambda k: best[k])
        ref = best.get((fastest[0], Backend.PYTORCH))
        vs = f", {ref / best[fastest]:.2f}x PyTorch" if ref else ""
        print(f"batch {batch}: fastest {fastest[0]} {fastest[1].value} {best[fastest]:.1f} ms/frame{vs}")
        first = profiles[0].name
        for (n, b), ms in best.items():
            if n != first and (first, b) in best:
                print(f"  {n} {b.value}: {ms:.1f} ms/frame, {best[(first, b)] / ms:.2f}x {first}")


if __name__ == "__main__":
    main()
