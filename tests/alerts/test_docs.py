"""docs/alerts.md stays true: its reference verifier works against real signatures and refuses
bad ones, and its field table lists exactly the fields of the alert model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from api.alerts.payload import Alert
from api.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_headers

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
BODY = b'{"alert_id": 7, "event_id": "3b0e"}'
NOW = 1_764_061_200


@pytest.fixture(scope="module")
def verifier() -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"\*\*Reference verifier\*\*.*?```python\n(.*?)```", text, re.S)
    assert block is not None, "the verifier code block is missing from docs/alerts.md"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), namespace)
    return namespace


def test_doc_verifier_accepts_what_the_dispatcher_signs(verifier: dict[str, Any]) -> None:
    headers = sign_headers(BODY, ["old-secret", "new-secret"], now_s=NOW)
    assert verifier["verify"](BODY, headers, ["new-secret"], now=NOW + 10) == NOW
    assert verifier["verify"](BODY, headers, ["old-secret"], now=NOW - 10) == NOW


@pytest.mark.parametrize(
    ("body", "headers", "now"),
    [
        (BODY + b"x", sign_headers(BODY, ["s"], now_s=NOW), NOW),  # body changed
        (BODY, sign_headers(BODY, ["other"], now_s=NOW), NOW),  # signed with another secret
        (BODY, {**sign_headers(BODY, ["s"], now_s=NOW), SIGNATURE_HEADER: "v1=00"}, NOW),
        (BODY, {**sign_headers(BODY, ["s"], now_s=NOW), TIMESTAMP_HEADER: str(NOW + 5)}, NOW),
        (BODY, sign_headers(BODY, ["s"], now_s=NOW), NOW + 301),  # stale
        (BODY, sign_headers(BODY, ["s"], now_s=NOW), NOW - 301),  # from the future
        (BODY, {TIMESTAMP_HEADER: str(NOW)}, NOW),  # no signature
        (BODY, {**sign_headers(BODY, ["s"], now_s=NOW), TIMESTAMP_HEADER: "yesterday"}, NOW),
    ],
)
def test_doc_verifier_rejects_invalid_signatures(
    verifier: dict[str, Any], body: bytes, headers: dict[str, str], now: int
) -> None:
    with pytest.raises(verifier["InvalidSignature"]):
        verifier["verify"](body, headers, ["s"], now=now)


def test_field_table_matches_the_model() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## The alert message", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, re.M)
    assert documented == list(Alert.model_json_schema(by_alias=True)["properties"])
