"""``brightkitchen run`` as a real process: bad configs are refused, SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from streams.testing import make_pattern_clip

from .conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_check_accepts_the_example_and_refuses_a_typo(tmp_path: Path) -> None:
    ok = cli("--config", "docs/sites.example.yaml", "--check")
    assert ok.returncode == 0, ok.stderr
    assert "ok: 2 camera(s) in 2 site(s)" in ok.stdout and "change-me" not in ok.stdout
    bad = tmp_path / "sites.yaml"
    bad.write_text(
        yaml.safe_dump({"sites": [{"id": "s", "cameras": [{"id": "c", "url": "a.mp4", "fps": 5}]}]})
    )
    res = cli("--config", str(bad), "--check")
    assert res.returncode == 2
    assert "sites.0.cameras.0.fps: Extra inputs are not permitted" in res.stderr


def test_a_busy_port_is_a_clear_error_and_nothing_keeps_running(tmp_path: Path, pattern_clip: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = {
            "sites": [{"id": "s1", "cameras": [{"id": "cam0", "url": str(pattern_clip)}]}],
            "http": {"port": port},
            "events_file": str(tmp_path / "events.jsonl"),
            "media_dir": str(tmp_path / "media"),
        }
        (tmp_path / "sites.yaml").write_text(yaml.safe_dump(cfg))
        res = cli("--config", str(tmp_path / "sites.yaml"))
    assert res.returncode == 1
    assert "error: live-view HTTP server did not start (port in use?)" in res.stderr


def test_sigterm_closes_open_events_and_stops(tmp_path: Path) -> None:
    """Also ``--db``: the same events land in the API database (SQLite, migrated and seeded)."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "BK_DATA_DIR": str(tmp_path / "data"),
        "BK_DATABASE_URL": f"sqlite:///{tmp_path / 'bk.db'}",
    }
    for step in (["db", "upgrade"], ["seed-demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *step], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    clip = make_pattern_clip(tmp_path / "covered.mp4", seconds=20, covered_from_s=4)
    camera_key = "sample-canteen_no_hat"  # a camera the demo seed registers
    cfg = {
        "sites": [{"id": "s1", "cameras": [{"id": camera_key, "url": str(clip), "detect_fps": 5}]}],
        "http": {"port": 0},
        "status_file": str(tmp_path / "status.json"),
        "events_file": str(tmp_path / "events.jsonl"),
        "media_dir": str(tmp_path / "media"),
    }
    (tmp_path / "sites.yaml").write_text(yaml.safe_dump(cfg))
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "run", "--db", "--config", str(tmp_path / "sites.yaml")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    events = tmp_path / "events.jsonl"
    try:
        wait_for(lambda: events.exists() and "camera_tampered" in events.read_text(), 40, 0.2)
        status = json.loads((tmp_path / "status.json").read_text())
        assert status["cameras"][camera_key]["tampered"] == "covered"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    phases = [(e["kind"], e["phase"]) for e in map(json.loads, events.read_text().splitlines())]
    assert phases == [("camera_tampered", "open"), ("camera_tampered", "close")]
    final = json.loads((tmp_path / "status.json").read_text())
    assert final["cameras"][camera_key]["status"] == "stopped"
    assert "runtime stopped" in out
    with sqlite3.connect(tmp_path / "bk.db") as con:
        rows = con.execute(
            "SELECT e.kind, e.ended_at IS NOT NULL FROM events e"
            " JOIN cameras c ON c.id = e.camera_id WHERE c.key = ?",
            (camera_key,),
        ).fetchall()
    assert rows == [("camera_tampered", 1)]
