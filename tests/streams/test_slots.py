from __future__ import annotations

import threading

import numpy as np

from streams.slots import FrameHub, LatestSlot
from vision.types import Frame


def frame(i: int) -> Frame:
    return Frame("c1", i / 15, np.zeros((4, 4, 3), np.uint8), i)


def test_latest_frame_wins_and_overwrites_count_as_drops() -> None:
    slot = LatestSlot()
    assert slot.put(frame(0)) == 0
    assert slot.put(frame(1)) == 1
    assert slot.put(frame(2)) == 1
    got = slot.get(timeout_s=0.1)
    assert got is not None and got.index == 2 and slot.dropped == 2
    assert slot.get(timeout_s=0.01) is None


def test_get_wakes_on_put_and_on_close() -> None:
    slot = LatestSlot()
    out: list[Frame | None] = []
    t = threading.Thread(target=lambda: out.append(slot.get(timeout_s=5)))
    t.start()
    slot.put(frame(7))
    t.join(5)
    assert out and out[0] is not None and out[0].index == 7
    t = threading.Thread(target=lambda: out.append(slot.get(timeout_s=5)))
    t.start()
    slot.close()
    t.join(5)
    assert not t.is_alive() and out[1] is None


def test_hub_versions_every_publish() -> None:
    hub = FrameHub("c1")
    assert hub.latest() == (0, None)
    hub.publish(frame(0))
    hub.publish(frame(1))
    version, f = hub.latest()
    assert version == 2 and f is not None and f.index == 1
