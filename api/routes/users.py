from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func, select

from api import audit
from api.audit import Actor
from api.deps import AdminUser, ServicesDep, SessionDep
from api.models import Region, Role, Site, User
from api.schemas.auth import UserCreate, UserPublic, UsersPublic, UserUpdate
from api.schemas.common import errors

router = APIRouter(tags=["users"])


@router.get("/users", responses=errors(401, 403))
def list_users(
    p: AdminUser,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UsersPublic:
    rows = session.scalars(select(User).order_by(User.username).offset(offset).limit(limit)).all()
    count = session.scalar(select(func.count()).select_from(User)) or 0
    return UsersPublic(data=[UserPublic.model_validate(u) for u in rows], count=count)


def check_scope(session: SessionDep, body: UserCreate) -> None:
    """A role carries exactly the scope it needs: none, a region, or a site."""
    if body.role is Role.PUBLIC:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the public role is anonymous; it has no accounts")
    want_region, want_site = body.role is Role.REGULATOR, body.role is Role.SITE_STAFF
    if (body.region_id is not None) != want_region or (body.site_id is not None) != want_site:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "admin takes no scope; regulator needs region_id only; site_staff needs site_id only",
        )
    if body.region_id is not None and session.get(Region, body.region_id) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "region_id does not exist")
    if body.site_id is not None and session.get(Site, body.site_id) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "site_id does not exist")


@router.post("/users", status_code=201, responses=errors(400, 401, 403, 409))
def create_user(body: UserCreate, p: AdminUser, session: SessionDep, services: ServicesDep) -> UserPublic:
    check_scope(session, body)
    if session.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"username {body.username!r} is taken")
    user = User(
        username=body.username,
        password_hash=services.passwords.hash(body.password),
        role=body.role,
        region_id=body.region_id,
        site_id=body.site_id,
        is_active=True,
    )
    session.add(user)
    session.flush()
    assert p.user is not None
    audit.append(
        session,
        actor=Actor.of(p.user),
        action="user.created",
        object_type="user",
        object_id=str(user.id),
        site_id=user.site_id,
        details={"username": user.username, "role": user.role.value},
    )
    session.commit()
    return UserPublic.model_validate(user)


@router.patch("/users/{user_id}", responses=errors(400, 401, 403, 404))
def update_user(
    user_id: uuid.UUID, body: UserUpdate, p: AdminUser, session: SessionDep, services: ServicesDep
) -> UserPublic:
    """Disable or re-enable an account, or reset its password. A disabled user's tokens stop
    working at once (every request loads the user)."""
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "user not found")
    assert p.user is not None
    if user.id == p.user.id and body.is_active is False:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "an admin cannot disable their own account")
    changed = []
    if body.is_active is not None and body.is_active != user.is_active:
        user.is_active = body.is_active
        changed.append("enabled" if body.is_active else "disabled")
    if body.password is not None:
        user.password_hash = services.passwords.hash(body.password)
        changed.append("password reset")
    audit.append(
        session,
        actor=Actor.of(p.user),
        action="user.updated",
        object_type="user",
        object_id=str(user.id),
        site_id=user.site_id,
        details={"changes": ", ".join(changed) or "none"},
    )
    session.commit()
    return UserPublic.model_validate(user)
