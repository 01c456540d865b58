from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from api.deps import AnyUser, ServicesDep, SessionDep
from api.models import User
from api.schemas.auth import Token, UserPublic
from api.schemas.common import errors
from api.security import Throttled

log = logging.getLogger("api.auth")
router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses=errors(400, 401, 429))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    services: ServicesDep,
    session: SessionDep,
) -> Token:
    """OAuth2 password flow. Repeated failures for a user or an address answer 429 for a while."""
    keys = (f"user:{form.username.lower()}", f"ip:{request.client.host if request.client else '-'}")
    try:
        services.throttle.check(*keys)
    except Throttled as exc:
        log.warning("login throttled for user %r", form.username)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, str(exc), {"Retry-After": str(exc.retry_after_s)}
        ) from None
    user = session.scalar(select(User).where(User.username == form.username))
    ok = services.passwords.verify(user.password_hash if user else None, form.password)
    if user is None or not ok or not user.is_active:
        services.throttle.fail(*keys)
        log.info("login failed for user %r", form.username)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong username or password", {"WWW-Authenticate": "Bearer"}
        )
    services.throttle.reset(keys[0])
    log.info("login ok for user %r", user.username)
    return Token(access_token=services.tokens.issue(user), expires_in=services.tokens.ttl_s)


@router.get("/users/me", responses=errors(401, 403))
def me(p: AnyUser) -> UserPublic:
    return UserPublic.model_validate(p.user)
