"""``brightkitchen db upgrade``, ``seed-demo`` (with and without sample clips), ``users create``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from api.main import create_app
from api.settings import get_settings
from tests.api.world import make_clip


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BK_DATABASE_URL", raising=False)
    monkeypatch.setenv("BK_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("BK_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("BK_ARGON2_PARALLELISM", "1")
    monkeypatch.setenv("BK_ESCALATION_INTERVAL_S", "0")
    monkeypatch.setenv("BK_SAMPLE_DIR", str(tmp_path / "samples"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=input)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def credentials(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+\w+\s+(demo-\w+)\s+(\S+)\s", output, flags=re.M))


def test_seed_demo_without_samples_then_with(env: Path) -> None:
    assert "database at head" in run("db", "upgrade")
    first = run("seed-demo")
    creds = credentials(first)
    assert set(creds) == {"demo-admin", "demo-regulator", "demo-staff"}
    samples = env / "samples"
    make_clip(samples / "canteen_01.mp4")
    (samples / "canteen_01.json").write_text(
        json.dumps(
            {
                "scene": {"kind": "canteen"},
                "camera": {
                    "rules": {
                        "zones": [
                            {"name": "store", "polygon": [[0.6, 0.3], [1, 0.3], [1, 1]], "restricted": True}
                        ]
                    }
                },
            }
        )
    )
    shutil.copy(samples / "canteen_01.mp4", samples / "street_02.mp4")
    creds = credentials(run("seed-demo"))  # idempotent; passwords are new each run
    with TestClient(create_app(get_settings())) as client:
        tok = client.post(
            "/api/auth/token", data={"username": "demo-regulator", "password": creds["demo-regulator"]}
        )
        assert tok.status_code == 200
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        cams = client.get("/api/cameras", headers=h).json()["data"]
        assert sorted(c["key"] for c in cams) == ["sample-canteen_01", "sample-street_02"]
        canteen = next(c for c in cams if c["key"] == "sample-canteen_01")
        assert canteen["zones"][0]["restricted"] is True
        sites = client.get("/api/sites", headers=h).json()["data"]
        assert len({s["kind"] for s in sites}) == 3
        school = next(s for s in sites if s["kind"] == "school_canteen")
        assert canteen["site_id"] == school["id"]
    assert "audit chain OK" in run("audit", "verify")


def test_users_create(env: Path) -> None:
    run("db", "upgrade")
    out = run("users", "create", "root2", "--role", "admin", input="a long password\na long password\n")
    assert "created admin root2" in out and "a long password" not in out
    bad = CliRunner().invoke(
        cli, ["users", "create", "r3", "--role", "regulator"], input="a long password\na long password\n"
    )
    assert bad.exit_code != 0 and "could not create user" in bad.output
