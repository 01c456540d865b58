from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.alerts.tiers import Audience, Cadence, TierConfig, TierPolicy
from vision.kinds import Severity

# 2026-03-02 09:20 in Asia/Shanghai (UTC+8)
NOW = datetime(2026, 3, 2, 1, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("severity", "audience", "expected"),
    [
        (Severity.RED, Audience.SITE, NOW),
        (Severity.RED, Audience.REGULATOR, NOW),
        (Severity.ORANGE, Audience.SITE, NOW),
        (Severity.ORANGE, Audience.REGULATOR, datetime(2026, 3, 2, 2, 0, tzinfo=UTC)),  # next full hour
        (Severity.YELLOW, Audience.SITE, datetime(2026, 3, 3, 0, 0, tzinfo=UTC)),  # tomorrow 08:00 +08
        (Severity.YELLOW, Audience.REGULATOR, datetime(2026, 3, 3, 0, 0, tzinfo=UTC)),
    ],
)
def test_default_tiers(severity: Severity, audience: Audience, expected: datetime) -> None:
    assert TierPolicy().due_at(severity, audience, NOW) == expected


def test_daily_digest_before_its_time_is_due_today() -> None:
    early = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 04:00 local
    expected = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert TierPolicy().due_at(Severity.YELLOW, Audience.SITE, early) == expected


def test_region_override_applies_to_its_subtree(tmp_path: Path) -> None:
    f = tmp_path / "tiers.yaml"
    f.write_text(
        "default: {daily_digest_at: '18:00'}\n"
        "regions:\n"
        "  aaa: {orange: {site: immediate, regulator: immediate}}\n"
        "  bbb: {yellow: {site: never, regulator: daily}}\n"
    )
    cfg = TierConfig.load(f)
    city = cfg.policy_for(["prov", "aaa", "district"])
    assert city.rule(Severity.ORANGE).regulator is Cadence.IMMEDIATE
    assert city.daily_digest_at.hour == 18  # inherited from the file's default
    assert cfg.policy_for(["prov", "other"]).rule(Severity.ORANGE).regulator is Cadence.HOURLY
    assert cfg.policy_for(["bbb"]).due_at(Severity.YELLOW, Audience.SITE, NOW) is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("default: {red: {site: soon, regulator: immediate}}\n", ValidationError),
        ("default: {digest_timezone: Mars/Olympus}\n", ValidationError),
        ("regulars: {}\n", ValueError),
        ("- a\n", ValueError),
    ],
)
def test_bad_tier_files_are_refused(tmp_path: Path, text: str, error: type[Exception]) -> None:
    f = tmp_path / "tiers.yaml"
    f.write_text(text)
    with pytest.raises(error):
        TierConfig.load(f)
