"""The alert message: one JSON document per alert, the same on every channel.

An alert is a snapshot taken in the transaction that caused it, so a retry a day later says what
was true then. ``alert_id`` is unique and increases with commit order of the outbox; receivers
drop duplicates by ``alert_id`` (an event's several alerts — opened, confirmed, ... — share its
``event_id``). The JSON Schema is ``Alert.model_json_schema()`` and is printed in docs/alerts.md.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vision.kinds import Severity

SCHEMA_ID = "brightkitchen.alert/1"


class Trigger(StrEnum):
    """The event change that caused an alert."""

    EVENT_OPENED = "event_opened"
    EVENT_CONFIRMED = "event_confirmed"
    RECTIFICATION_ORDERED = "rectification_ordered"
    RECTIFICATION_OVERDUE = "rectification_overdue"
    CAMERA_OFFLINE = "camera_offline"
    CAMERA_ONLINE = "camera_online"


class Alert(BaseModel):
    """One alert as it travels (webhook body, MQTT payload, WebSocket message)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    alert_id: int = Field(ge=1, description="unique; receivers drop duplicates by this id")
    event_id: str = Field(description="the violation event (or camera-health event) behind the alert")
    trigger: Trigger
    kind: str = Field(description="violation kind, e.g. rodent, no_hat, camera_offline")
    kind_zh: str = ""
    severity: Severity
    region: str = Field(description="id (hex) of the site's region, the last of region_path")
    region_path: list[str] = Field(default_factory=list, description="region ids (hex), province → street")
    site_id: str
    site_name: str = ""
    camera_id: str = Field(default="-", description="'-' for alerts about a whole site")
    occurred_at: datetime = Field(description="when the event change happened (UTC)")
    created_at: datetime = Field(description="when the alert was written, with the change (UTC)")
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict, description="trigger-specific extras")

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")


class Digest(BaseModel):
    """Several alerts bundled for an hourly or daily digest (webhook body / WebSocket message)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_id: str = Field(default="brightkitchen.digest/1", alias="schema")
    cadence: str
    alerts: list[Alert]

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")
