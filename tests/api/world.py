"""A small world for API tests: two region trees, two sites, cameras, one user per role.

Region X (province → city → district → street) holds site A; region Y holds site B. Tokens come
from really logging in through ``POST /api/auth/token``.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from api.ingest import DatabaseEventSink
from api.models import Camera, Region, RegionLevel, Role, Site, SiteKind, User
from api.services import Services
from vision.kinds import Severity, ViolationKind
from vision.types import EventPhase, ViolationEvent

ROLES = ("admin", "reg_x", "reg_y", "staff_a", "staff_b", "public")
PASSWORD = "correct horse battery staple"


def _region(name: str, level: RegionLevel, parent: Region | None) -> Region:
    rid = uuid.uuid4()
    return Region(
        id=rid,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{rid.hex}/",
    )


_CLIPS: dict[tuple[int, tuple[int, int]], bytes] = {}


def make_clip(path: Path, frames: int = 30, size: tuple[int, int] = (160, 96)) -> Path:
    """A real H.264 MP4 (yuv420p, faststart), like the clip recorder writes (encoded once per shape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if (frames, size) not in _CLIPS:
        _encode_clip(path, frames, size)
        _CLIPS[(frames, size)] = path.read_bytes()
    path.write_bytes(_CLIPS[(frames, size)])
    return path


def _encode_clip(path: Path, frames: int, size: tuple[int, int]) -> None:
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.time_base = Fraction(1, 15)
        for i in range(frames):
            img = np.full((size[1], size[0], 3), (i * 8) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def make_jpeg(
    path: Path | None = None, size: tuple[int, int] = (320, 200), exif: bytes | None = None
) -> bytes:
    img = Image.new("RGB", size, (200, 120, 40))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif or b"")
    data = buf.getvalue()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data


@dataclass
class World:
    client: TestClient
    services: Services
    regions: dict[str, Region]
    site_a: Site
    site_b: Site
    cam_a: Camera
    cam_b: Camera
    users: dict[str, User]
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: str) -> str:
        if role not in self._tokens:
            r = self.client.post(
                "/api/auth/token", data={"username": self.users[role].username, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            self._tokens[role] = r.json()["access_token"]
        return self._tokens[role]

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "public" else {"Authorization": f"Bearer {self.token(role)}"}

    def sink(self) -> DatabaseEventSink:
        return DatabaseEventSink(self.services.session_factory, self.services.media_dir)

    def ingest(
        self,
        camera: Camera,
        tmp: Path,
        kind: ViolationKind = ViolationKind.NO_HAT,
        severity: Severity = Severity.ORANGE,
        with_media: bool = True,
    ) -> ViolationEvent:
        """Open, update and close one event through the real sink, with a clip and snapshot."""
        ev = ViolationEvent(
            kind=kind,
            severity=severity,
            camera_id=camera.key,
            track_id=7,
            started_s=1.0,
            updated_s=3.0,
            confidence=0.81,
            xyxy=(10.0, 20.0, 60.0, 90.0),
            model_version="kitchen-yolo11n@test",
            rule_version="rules@test",
            started_wall=1_764_000_000.0,
        )
        sink = self.sink()
        sink.emit(ev)
        ev.phase, ev.updated_s, ev.ended_s = EventPhase.CLOSE, 9.0, 9.0
        if with_media:
            ev.clip_path = str(make_clip(tmp / f"{ev.id}.mp4"))
            ev.snapshot_path = str(tmp / f"{ev.id}.jpg")
            make_jpeg(Path(ev.snapshot_path))
        sink.emit(ev)
        return ev


def build_world(client: TestClient, services: Services) -> World:
    with services.session_factory() as s:
        px = _region("Province X", RegionLevel.PROVINCE, None)
        s.add(px)
        s.flush()
        cx = _region("City X", RegionLevel.CITY, px)
        s.add(cx)
        s.flush()
        dx = _region("District X", RegionLevel.DISTRICT, cx)
        s.add(dx)
        s.flush()
        sx = _region("Street X", RegionLevel.STREET, dx)
        py = _region("Province Y", RegionLevel.PROVINCE, None)
        s.add_all([sx, py])
        s.flush()
        site_a = Site(
            name="Canteen A",
            kind=SiteKind.SCHOOL_CANTEEN,
            licence_no="LIC-A",
            address="1 A road",
            region_id=sx.id,
            work_start=time(6),
            work_end=time(20),
            public_display=True,
        )
        site_b = Site(
            name="Restaurant B",
            kind=SiteKind.RESTAURANT,
            licence_no="LIC-B",
            address="2 B road",
            region_id=py.id,
            work_start=time(6),
            work_end=time(20),
            public_display=False,
        )
        s.add_all([site_a, site_b])
        s.flush()
        cam_a = Camera(site_id=site_a.id, key="cam-a", name="A kitchen", detect_url="")
        cam_b = Camera(site_id=site_b.id, key="cam-b", name="B kitchen", detect_url="")
        s.add_all([cam_a, cam_b])
        pw = services.passwords.hash(PASSWORD)
        users = {
            "admin": User(username="admin", role=Role.ADMIN, password_hash=pw),
            "reg_x": User(username="reg-x", role=Role.REGULATOR, region_id=dx.id, password_hash=pw),
            "reg_y": User(username="reg-y", role=Role.REGULATOR, region_id=py.id, password_hash=pw),
            "staff_a": User(username="staff-a", role=Role.SITE_STAFF, site_id=site_a.id, password_hash=pw),
            "staff_b": User(username="staff-b", role=Role.SITE_STAFF, site_id=site_b.id, password_hash=pw),
        }
        for u in users.values():
            u.is_active = True
        s.add_all(users.values())
        s.commit()
        regions = {"px": px, "cx": cx, "dx": dx, "sx": sx, "py": py}
    return World(client, services, regions, site_a, site_b, cam_a, cam_b, users)
