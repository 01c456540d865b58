"""Write a scenario as an H.264 (yuv420p, faststart) MP4 plus its ground-truth JSON."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from vision.synth.groundtruth import dump_json, ground_truth_doc
from vision.synth.render import GTObject, Renderer
from vision.synth.scenario import Scenario


def open_h264_writer(
    path: Path, width: int, height: int, fps: float, crf: int = 26
) -> tuple[av.container.OutputContainer, av.video.stream.VideoStream]:
    """An MP4 writer that browsers play: H.264 High, yuv420p, moov atom first (faststart)."""
    container = av.open(str(path), mode="w", options={"movflags": "+faststart"})
    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": str(crf), "preset": "veryfast", "g": str(int(round(fps * 2)))}
    return container, stream


def render_video(
    sc: Scenario,
    out: Path,
    *,
    camera_id: str | None = None,
    crf: int = 26,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Render every frame, encode ``out`` (.mp4) and write ``out.with_suffix('.json')``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    r = Renderer(sc)
    n = int(round(sc.duration_s * sc.fps))
    frames: list[list[GTObject]] = []
    container, stream = open_h264_writer(out, sc.scene.width, sc.scene.height, sc.fps, crf)
    try:
        for i in range(n):
            img, objs = r.render(i / sc.fps, i)
            frames.append(objs)
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            vf.pts = i
            for packet in stream.encode(vf):
                container.mux(packet)
            if progress:
                progress(i + 1, n)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    doc = ground_truth_doc(sc, out.name, frames, camera_id or f"sample-{out.stem}")
    dump_json(doc, out.with_suffix(".json"))
    return doc
