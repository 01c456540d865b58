from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from api.models import Role
from api.schemas.common import Orm


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


USERNAME = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")


class UserCreate(BaseModel):
    username: str = USERNAME
    password: str = Field(min_length=10, max_length=256)
    role: Role
    region_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None


class UserUpdate(BaseModel):
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=256)


class UserPublic(Orm):
    id: uuid.UUID
    username: str
    role: Role
    region_id: uuid.UUID | None
    site_id: uuid.UUID | None
    is_active: bool


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int
