from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["public"])


class Health(BaseModel):
    status: str


@router.get("/health")
def health() -> Health:
    """Liveness for load balancers; the only route the anonymous public has for now."""
    return Health(status="ok")
