"""``Annotated`` dependencies: every route says what it needs through these aliases.

Role aliases (``AnyUser``, ``AdminUser``, ``Reviewer``, ``StaffUser``) answer 401 without a valid
token and 403 for the wrong role; scoped loaders (``ScopedSite``, ``ScopedEvent`` ...) answer 404
both for a missing id and for one outside the caller's scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from api.models import Camera, Event, Rectification, Role, Site, User
from api.scope import Principal, can_see_site
from api.security import InvalidToken
from api.services import Services

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_principal(
    services: ServicesDep, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        return Principal.public()
    try:
        claims = services.tokens.decode(token)
    except InvalidToken:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired token", UNAUTHORIZED) from None
    user = session.scalar(select(User).options(joinedload(User.region)).where(User.id == claims.user_id))
    if user is None or not user.is_active:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "user unknown or disabled", UNAUTHORIZED)
    return Principal.of(user)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    def check(p: PrincipalDep) -> Principal:
        if p.role is Role.PUBLIC:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required", UNAUTHORIZED)
        if p.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {p.role.value} may not do this")
        return p

    return check


AnyUser = Annotated[Principal, Depends(require(Role.ADMIN, Role.REGULATOR, Role.SITE_STAFF))]
AdminUser = Annotated[Principal, Depends(require(Role.ADMIN))]
Reviewer = Annotated[Principal, Depends(require(Role.ADMIN, Role.REGULATOR))]
StaffUser = Annotated[Principal, Depends(require(Role.SITE_STAFF))]


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def scoped_site(site_id: uuid.UUID, p: AnyUser, session: SessionDep) -> Site:
    site = session.get(Site, site_id)
    if site is None or not can_see_site(session, p, site.id):
        raise not_found("site")
    return site


def scoped_camera(camera_id: uuid.UUID, p: AnyUser, session: SessionDep) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None or not can_see_site(session, p, camera.site_id):
        raise not_found("camera")
    return camera


def scoped_event(event_id: uuid.UUID, p: AnyUser, session: SessionDep) -> Event:
    event = session.get(Event, event_id)
    if event is None or not can_see_site(session, p, event.site_id):
        raise not_found("event")
    return event


def scoped_rectification(rectification_id: uuid.UUID, p: AnyUser, session: SessionDep) -> Rectification:
    rect = session.get(Rectification, rectification_id)
    if rect is None or not can_see_site(session, p, rect.site_id):
        raise not_found("rectification")
    return rect


ScopedSite = Annotated[Site, Depends(scoped_site)]
ScopedCamera = Annotated[Camera, Depends(scoped_camera)]
ScopedEvent = Annotated[Event, Depends(scoped_event)]
ScopedRectification = Annotated[Rectification, Depends(scoped_rectification)]
