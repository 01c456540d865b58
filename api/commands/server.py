"""``serve``, ``db``, ``users``, ``seed-demo``, ``audit`` and ``rectifications`` commands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from api.settings import get_settings

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
rect_app = typer.Typer(help="Rectification orders.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default BK_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default BK_PORT)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
) -> None:
    """Run the review API with uvicorn (apply migrations first: ``brightkitchen db upgrade``)."""
    import uvicorn

    s = get_settings()
    uvicorn.run(
        "api.main:app_from_env",
        factory=True,
        host=host or s.host,
        port=port or s.port,
        workers=workers,
        log_level=s.log_level.lower(),
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema (SQLite file by default, BK_DATABASE_URL otherwise)."""
    from api.db import upgrade

    upgrade(get_settings(), revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision, e.g. base")]) -> None:
    from api.db import downgrade

    downgrade(get_settings(), revision)
    typer.echo(f"database at {revision}")


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin | regulator | site_staff")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    region_id: Annotated[str | None, typer.Option(help="regulator's region id")] = None,
    site_id: Annotated[str | None, typer.Option(help="site staff's site id")] = None,
) -> None:
    """Create a user (the password is prompted for, never echoed or logged)."""
    from api.models import Role, User
    from api.security import PasswordService
    from api.services import Services

    try:
        role_v = Role(role)
        if role_v is Role.PUBLIC:
            raise ValueError("public has no accounts")
        region = uuid.UUID(region_id) if region_id else None
        site = uuid.UUID(site_id) if site_id else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if len(password) < 10:
        raise typer.BadParameter("password must have at least 10 characters")
    services = Services.build(get_settings())
    try:
        with services.session_factory() as session:
            session.add(
                User(
                    username=username,
                    role=role_v,
                    region_id=region,
                    site_id=site,
                    is_active=True,
                    password_hash=PasswordService(services.settings).hash(password),
                )
            )
            session.commit()
    except Exception as exc:  # constraint errors: wrong scope for the role, taken username, unknown ids
        raise typer.BadParameter(
            f"could not create user: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None
    finally:
        services.close()
    typer.echo(f"created {role_v.value} {username}")


def seed_demo() -> None:
    """Regions, sites, a camera per sample clip and one demo user per role (credentials printed)."""
    from api.seed import seed_demo as run_seed
    from api.services import Services

    services = Services.build(get_settings())
    try:
        with services.session_factory() as session:
            creds = run_seed(session, services.passwords, services.settings.sample_dir)
            session.commit()
    finally:
        services.close()
    typer.echo("demo users (passwords are new on every seed-demo run):")
    for c in creds:
        typer.echo(f"  {c.role.value:<11} {c.username:<15} {c.password}   scope: {c.scope}")
    typer.echo("  public      (no login)      only GET /api/health for now")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if it does not hold."""
    from api import audit
    from api.services import Services

    services = Services.build(get_settings())
    try:
        with services.session_factory() as session:
            report = audit.verify(session)
    finally:
        services.close()
    if not report.ok:
        typer.echo(f"audit chain BROKEN at entry {report.first_bad_seq}: {report.problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain OK: {report.checked} entries")


@rect_app.command("escalate")
def rect_escalate(
    now: Annotated[
        str | None, typer.Option(help="ISO time with zone to use as 'now' (default: the clock)")
    ] = None,
) -> None:
    """Escalate overdue rectification orders one region level up (the server also does it periodically)."""
    from api.review import escalate_overdue
    from api.services import Services

    at = datetime.fromisoformat(now) if now else datetime.now(UTC)
    if at.tzinfo is None:
        raise typer.BadParameter("--now needs a timezone, e.g. 2026-11-25T10:00:00+08:00")
    services = Services.build(get_settings())
    try:
        with services.session_factory() as session:
            done = escalate_overdue(session, at)
            session.commit()
    finally:
        services.close()
    for e in done:
        typer.echo(f"escalated {e.rectification_id} to level {e.level} ({e.region})")
    typer.echo(f"{len(done)} escalated")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("seed-demo")(seed_demo)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(rect_app, name="rectifications")
