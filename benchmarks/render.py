"""Rendering speed of the synthetic world: frames/s at 640x360, per scene kind, in one run.

    .venv/bin/python benchmarks/render.py [--frames 90]

Prints render-only and render+encode (H.264) throughput, and the ratio to real time at 15 fps.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vision.synth.generate import build_scenario, random_spec
from vision.synth.render import Renderer
from vision.synth.scene import SCENE_KINDS
from vision.synth.video import render_video


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=90)
    a = ap.parse_args()
    print(f"{'scene':<12} {'render fps':>10} {'+encode fps':>12} {'x real time @15fps':>20}")
    for kind in SCENE_KINDS:
        spec = random_spec(1, scene=kind, duration_s=a.frames / 15.0, dense=True)
        sc = build_scenario(spec)
        r = Renderer(sc)
        t0 = time.perf_counter()
        for i in range(a.frames):
            r.render(i / 15.0, i)
        fps_render = a.frames / (time.perf_counter() - t0)
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            render_video(build_scenario(spec), Path(d) / "b.mp4")
            fps_all = a.frames / (time.perf_counter() - t0)
        print(f"{kind:<12} {fps_render:>10.1f} {fps_all:>12.1f} {fps_all / 15.0:>20.2f}")


if __name__ == "__main__":
    main()
