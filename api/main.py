"""``create_app(settings)``: the FastAPI app. Nothing connects at import time.

``lifespan`` builds the services (engine, session factory, password hasher, tokens, login
throttle) from the settings it was given and, when ``escalation_interval_s`` > 0, runs the
overdue-rectification escalation periodically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError

from api.alerts import admin as alerts_admin
from api.alerts import routes as alerts_routes
from api.alerts.service import AlertService
from api.live import LiveProxy
from api.models import utcnow
from api.review import escalate_overdue
from api.routes import audit, auth, cameras, events, health, live, media, rectifications, sites, users
from api.schemas.common import Problem
from api.security import install_log_redaction
from api.services import Services
from api.settings import Settings

log = logging.getLogger("api")
API_PREFIX = "/api"


def run_escalation(services: Services) -> int:
    with services.session_factory() as session:
        done = escalate_overdue(session, utcnow())
        session.commit()
    for e in done:
        log.info("rectification %s escalated to level %d (%s)", e.rectification_id, e.level, e.region)
    return len(done)


async def escalation_loop(services: Services, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(run_escalation, services)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("escalation round failed")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()
        services = Services.build(settings)
        app.state.services = services
        app.state.live = LiveProxy.from_settings(settings)  # the camera runtime's live view (WHEP)
        alerts = AlertService.build(settings, services.session_factory)  # WebSocket hub + dispatcher
        app.state.alerts = alerts
        alerts.start()
        task = None
        if settings.escalation_interval_s > 0:
            task = asyncio.create_task(escalation_loop(services, settings.escalation_interval_s))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            alerts.stop()
            services.close()

    app = FastAPI(
        title="BrightKitchen review API",
        version="1.0.0",
        description="Regions, sites, cameras, violation events, review, rectification and audit.",
        lifespan=lifespan,
        responses={
            400: {"model": Problem, "description": "malformed request (e.g. a body that does not parse)"},
            413: {"description": "request body over the limit"},
        },
        # Bodies are refused while streaming past this: the largest legitimate one is a full photo upload.
        max_body_size=settings.upload_max_files * settings.upload_max_bytes + 1_000_000,
    )
    for module in (health, auth, users, sites, cameras, live, events, media, rectifications, audit):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(alerts_admin.router, prefix=API_PREFIX)
    app.include_router(alerts_routes.router)  # /ws/alerts

    @app.exception_handler(DataError)
    async def data_refused(_: Request, exc: DataError) -> JSONResponse:
        log.warning("data error answered 400: %s", type(exc.orig).__name__)
        return JSONResponse({"detail": "a value cannot be stored (out of range or invalid characters)"}, 400)

    @app.exception_handler(IntegrityError)
    async def integrity_conflict(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error answered 409: %s", type(exc.orig).__name__)
        return JSONResponse({"detail": "conflicts with existing data"}, status.HTTP_409_CONFLICT)

    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory api.main:app_from_env`` (settings from BK_* variables)."""
    from api.settings import get_settings

    return create_app(get_settings())
