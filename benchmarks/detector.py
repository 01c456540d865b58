"""Detector speed per backend on this machine, in one run: PyTorch, ONNX Runtime, OpenVINO.

    .venv/bin/python benchmarks/detector.py [--profile models/kitchen-yolo11n.yaml] [--iters 20]

Times ``YoloDetector.detect`` end to end (letterbox, network, NMS, boxes back to the frame) on
rendered 640x360 kitchen frames at the profile's input size, for batch 1 and batch 8, and prints
ms/frame, frames/s, and the speed-up of the fastest backend over PyTorch. Each backend runs with
1 thread and with all cores: on a busy machine PyTorch's OpenMP pool collapses with 2 threads.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.profile import Backend
from vision.synth.generate import build_scenario, random_spec
from vision.synth.render import Renderer
from vision.yolo import YoloDetector, load_profile


def _frames(n: int) -> list[npt.NDArray[np.uint8]]:
    out = []
    for seed in range(900_100, 900_100 + n):
        img, _ = Renderer(build_scenario(random_spec(seed))).render(5.0, 75)
        out.append(img)
    return out


def _ms_per_frame(det: YoloDetector, frames: list[npt.NDArray[np.uint8]], batch: int, iters: int) -> float:
    chunk = frames[:batch]
    for _ in range(2):  # warm-up: first calls allocate, OpenVINO compiles for this batch size
        det.detect(chunk)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        det.detect(chunk)
        times.append(time.perf_counter() - t0)
    return 1000.0 * float(np.median(times)) / batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", type=Path, default=Path("models/kitchen-yolo11n.yaml"))
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 2}", help="comma-separated thread counts")
    a = ap.parse_args()
    frames = _frames(8)
    threads = sorted({int(t) for t in a.threads.split(",")})
    results: dict[tuple[Backend, int, int], float] = {}
    size = ""
    for backend in Backend:
        for th in threads:
            det, profile = load_profile(a.profile, backend=backend, threads=th)
            size = f"{profile.input_size.width}x{profile.input_size.height}"
            for batch in (1, 8):
                results[(backend, th, batch)] = _ms_per_frame(det, frames, batch, max(3, a.iters // batch))
            del det
    load = os.getloadavg()[0]
    print(f"input {size}, frames 640x360, median of max(3, {a.iters}/batch) runs, load average {load:.1f}")
    print(f"{'backend':<10} {'threads':>7} {'batch':>5} {'ms/frame':>9} {'frames/s':>9}")
    for (backend, th, batch), ms in results.items():
        print(f"{backend.value:<10} {th:>7} {batch:>5} {ms:>9.1f} {1000.0 / ms:>9.1f}")
    for batch in (1, 8):
        best = {b: min(results[(b, t, batch)] for t in threads) for b in Backend}
        fastest = min(best, key=lambda b: best[b])
        ratio = best[Backend.PYTORCH] / best[fastest]
        print(f"batch {batch}: fastest {fastest.value} {best[fastest]:.1f} ms/frame, {ratio:.2f}x PyTorch")


if __name__ == "__main__":
    main()
