"""Shared response shapes: the error body and the documented error codes per kind of route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Free text the database must store: PostgreSQL text cannot hold NUL, so no backend does.
NO_NUL = r"^[^\x00]*$"


def text(min_length: int = 1, max_length: int = 4000, default: Any = ...) -> Any:
    """A ``Field`` for free text: length-bounded, no NUL characters."""
    return Field(default, min_length=min_length, max_length=max_length, pattern=NO_NUL)


class Problem(BaseModel):
    detail: str


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route can answer with."""
    return {code: {"model": Problem} for code in codes}


AUTH_ERRORS = errors(401, 403)
SCOPED_ERRORS = errors(401, 403, 404)
