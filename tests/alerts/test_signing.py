from __future__ import annotations

import pytest

from api.alerts.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InvalidSignature,
    compute_signature,
    sign_headers,
    verify_signature,
)

BODY = b'{"alert_id": 1, "event_id": "e"}'
NOW = 1_750_000_000


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Reference value computed independently: printf '1750000000.{"alert_id": 1, "event_id": "e"}'
    #   | openssl dgst -sha256 -hmac s3cret
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1750000000." + BODY, hashlib.sha256).hexdigest()
    assert compute_signature("s3cret", NOW, BODY) == expected
    assert sign_headers(BODY, ["s3cret"], now_s=NOW) == {
        TIMESTAMP_HEADER: str(NOW),
        SIGNATURE_HEADER: f"v1={expected}",
    }


def test_verifier_accepts_a_fresh_valid_request() -> None:
    headers = sign_headers(BODY, ["s3cret"], now_s=NOW)
    assert verify_signature(BODY, headers, ["s3cret"], now_s=NOW + 299) == NOW


def test_rotation_both_secrets_sign_and_either_verifies() -> None:
    headers = sign_headers(BODY, ["old", "new"], now_s=NOW)
    assert headers[SIGNATURE_HEADER].count("v1=") == 2
    assert verify_signature(BODY, headers, ["new"], now_s=NOW) == NOW
    assert verify_signature(BODY, headers, ["old"], now_s=NOW) == NOW


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h, b: (h, b + b" "), "no signature matches"),
        (lambda h, b: ({**h, TIMESTAMP_HEADER: str(NOW + 1)}, b), "no signature matches"),
        (lambda h, b: ({**h, SIGNATURE_HEADER: "v1=" + "0" * 64}, b), "no signature matches"),
        (lambda h, b: ({**h, TIMESTAMP_HEADER: "soon"}, b), "not an integer"),
        (lambda h, b: ({k: v for k, v in h.items() if k != SIGNATURE_HEADER}, b), "missing header"),
    ],
)
def test_verifier_rejects_tampering(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    headers, body = mutate(sign_headers(BODY, ["s3cret"], now_s=NOW), BODY)
    with pytest.raises(InvalidSignature, match=message):
        verify_signature(body, headers, ["s3cret"], now_s=NOW)


@pytest.mark.parametrize("skew_s", [301, -301, 86400])
def test_verifier_rejects_stale_or_future_timestamps(skew_s: int) -> None:
    headers = sign_headers(BODY, ["s3cret"], now_s=NOW)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_signature(BODY, headers, ["s3cret"], now_s=NOW + skew_s)


def test_wrong_secret_is_rejected_and_headers_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in sign_headers(BODY, ["s3cret"], now_s=NOW).items()}
    assert verify_signature(BODY, headers, ["s3cret"], now_s=NOW) == NOW
    with pytest.raises(InvalidSignature):
        verify_signature(BODY, headers, ["other"], now_s=NOW)


def test_signing_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one"):
        sign_headers(BODY, [])
