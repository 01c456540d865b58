"""Demo data: a region tree, three sites of different kinds, one camera per sample clip
(key ``sample-<clip stem>``, zones from the clip's ground truth), one user per role.

Idempotent: rows are found by their natural keys (path names, licence, camera key, username);
demo users get fresh random passwords on every run, printed once by the CLI.
"""

from __future__ import annotations

import json
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.audit import Actor
from api.models import Camera, Region, RegionLevel, Role, Site, SiteKind, User, Zone
from api.security import PasswordService

TREE = [
    ("浙江省", RegionLevel.PROVINCE, None),
    ("杭州市", RegionLevel.CITY, "浙江省"),
    ("西湖区", RegionLevel.DISTRICT, "杭州市"),
    ("北山街道", RegionLevel.STREET, "西湖区"),
    ("上城区", RegionLevel.DISTRICT, "杭州市"),
    ("湖滨街道", RegionLevel.STREET, "上城区"),
]
SITES = [
    ("西湖实验小学食堂", SiteKind.SCHOOL_CANTEEN, "JY33010600001", "北山街道", "北山路 1 号", True),
    ("湖滨小馆", SiteKind.RESTAURANT, "JY33010200002", "湖滨街道", "湖滨路 8 号", True),
    ("城西中央厨房", SiteKind.CENTRAL_KITCHEN, "JY33010600003", "北山街道", "文三路 99 号", False),
]
SCENE_TO_SITE = {"canteen": 0, "hot_kitchen": 1, "wash_area": 2, "storage": 2}  # scene kind → SITES index


@dataclass(frozen=True, slots=True)
class Credential:
    username: str
    password: str
    role: Role
    scope: str


def _region(session: Session, name: str, level: RegionLevel, parent: Region | None) -> Region:
    found = session.scalar(
        select(Region).where(Region.name == name, Region.parent_id == (parent.id if parent else None))
    )
    if found is not None:
        return found
    rid = uuid.uuid4()
    region = Region(
        id=rid,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{rid.hex}/",
    )
    session.add(region)
    session.flush()
    return region


def _site(session: Session, spec: tuple[str, SiteKind, str, str, str, bool], region: Region) -> Site:
    name, kind, licence, _, address, public = spec
    site = session.scalar(select(Site).where(Site.licence_no == licence))
    if site is None:
        site = Site(
            name=name,
            kind=kind,
            licence_no=licence,
            address=address,
            region_id=region.id,
            work_start=time(6, 0),
            work_end=time(20, 0),
            public_display=public,
        )
        session.add(site)
        session.flush()
    return site


def _camera(session: Session, clip: Path, sites: list[Site]) -> Camera:
    key = f"sample-{clip.stem}"
    gt = clip.with_suffix(".json")
    meta = json.loads(gt.read_text(encoding="utf-8")) if gt.is_file() else {}
    scene = str(meta.get("scene", {}).get("kind", ""))
    site = sites[SCENE_TO_SITE.get(scene, zlib.crc32(clip.stem.encode()) % len(sites))]
    camera = session.scalar(select(Camera).where(Camera.key == key))
    if camera is None:
        camera = Camera(site_id=site.id, key=key, name=f"样例 {clip.stem}", detect_url=str(clip))
        for z in meta.get("camera", {}).get("rules", {}).get("zones", []):
            camera.zones.append(
                Zone(
                    name=z["name"],
                    polygon=z["polygon"],
                    restricted=bool(z.get("restricted")),
                    ignore_motion=bool(z.get("ignore_motion")),
                )
            )
        session.add(camera)
        session.flush()
    return camera


def _user(
    session: Session,
    passwords: PasswordService,
    name: str,
    role: Role,
    region: Region | None,
    site: Site | None,
) -> Credential:
    password = secrets.token_urlsafe(12)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        user = User(
            username=name,
            role=role,
            region_id=region.id if region else None,
            site_id=site.id if site else None,
            is_active=True,
            password_hash="",
        )
        session.add(user)
    user.password_hash = passwords.hash(password)
    session.flush()
    scope = region.name if region else site.name if site else "everything"
    return Credential(name, password, role, scope)


def seed_demo(session: Session, passwords: PasswordService, sample_dir: Path) -> list[Credential]:
    """Create (or find) the demo world; returns the demo users' fresh credentials. Caller commits."""
    regions: dict[str, Region] = {}
    for name, level, parent in TREE:
        regions[name] = _region(session, name, level, regions[parent] if parent else None)
    sites = [_site(session, spec, regions[spec[3]]) for spec in SITES]
    clips = sorted(sample_dir.glob("*.mp4")) if sample_dir.is_dir() else []
    cameras = [_camera(session, clip, sites) for clip in clips]
    creds = [
        _user(session, passwords, "demo-admin", Role.ADMIN, None, None),
        _user(session, passwords, "demo-regulator", Role.REGULATOR, regions["杭州市"], None),
        _user(session, passwords, "demo-staff", Role.SITE_STAFF, None, sites[0]),
    ]
    audit.append(
        session,
        actor=Actor.system("seed"),
        action="demo.seeded",
        object_type="system",
        object_id="seed-demo",
        details={"sites": len(sites), "cameras": len(cameras), "users": len(creds)},
    )
    return creds
