"""Property-based fuzzing of every operation in the OpenAPI schema against a real uvicorn.

Valid and invalid inputs (bounded examples per operation) as the admin (site staff for the
staff-only submission route) and as the anonymous public: never a 5xx, and every answer is a
documented status code, content type and body schema.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.world import World

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
schemathesis.serializer.alias("application/sdp", "text/plain")  # WHEP offers (live view) are text


def fuzz(
    operation: schemathesis.APIOperation, mode: GenerationMode, base_url: str, headers: dict[str, str]
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to break in an operation without inputs


def test_schema_fuzzing(
    app: FastAPI, world: World, live_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="uvicorn.access")  # ~1000 requests: keep the log quiet
    world.ingest(world.cam_a, tmp_path)  # something real behind the list routes
    schema = schemathesis.openapi.from_dict(app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    admin, staff = world.headers("admin"), world.headers("staff_a")
    for operation in operations:
        who = staff if operation.path.endswith("/submission") else admin
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, live_url, who)
        fuzz(operation, GenerationMode.POSITIVE, live_url, {})
