"""Users: a role and the scope it applies to (a region subtree or one site)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, Created, Role, UUIDKey, str_enum
from api.models.site import Region, Site


class User(UUIDKey, Created, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'admin' AND region_id IS NULL AND site_id IS NULL)"
            " OR (role = 'regulator' AND region_id IS NOT NULL AND site_id IS NULL)"
            " OR (role = 'site_staff' AND site_id IS NOT NULL AND region_id IS NULL)",
            name="role_scope",
        ),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sites.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    region: Mapped[Region | None] = relationship()
    site: Mapped[Site | None] = relationship()
