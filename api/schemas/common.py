"""Shared response shapes: the error body and the documented error codes per kind of route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    detail: str


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route can answer with."""
    return {code: {"model": Problem} for code in codes}


AUTH_ERRORS = errors(401, 403)
SCOPED_ERRORS = errors(401, 403, 404)
