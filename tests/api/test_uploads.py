"""Rectification photos: limited in size, count and type; re-encoded so only pixels survive."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from PIL import Image

from api.models import Event, Rectification, utcnow
from api.review import order_rectification, review_event
from api.schemas.event import Decision
from tests.api.world import World, make_jpeg

GPS_IFD = 0x8825


def ordered_rect(world: World, tmp_path: Path) -> str:
    ev = world.ingest(world.cam_a, tmp_path, with_media=False)
    with world.services.session_factory() as s:
        admin = s.merge(world.users["admin"])
        event = s.get_one(Event, uuid.UUID(ev.id))
        review_event(s, event, admin, Decision.CONFIRM, "seen", utcnow())
        rect = order_rectification(s, event, admin, "fix", None, utcnow())
        s.commit()
        return str(rect.id)


def submit(world: World, rect_id: str, files: list[tuple[str, bytes, str]]) -> tuple[int, dict[str, object]]:
    r = world.client.post(
        f"/api/rectifications/{rect_id}/submission",
        data={"reply_text": "fixed"},
        files=[("photos", (name, io.BytesIO(data), ctype)) for name, data, ctype in files],
        headers=world.headers("staff_a"),
    )
    return r.status_code, r.json()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD)[2] = (30.0, 15.0, 0.0)  # GPSLatitude
    return make_jpeg(size=(400, 300), exif=exif.tobytes())


def test_photo_is_reencoded_without_metadata(world: World, tmp_path: Path) -> None:
    rect_id = ordered_rect(world, tmp_path)
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    code, body = submit(world, rect_id, [("gps.jpg", original, "image/jpeg")])
    assert code == 200, body
    photo = body["photos"][0]  # type: ignore[index]
    served = world.client.get(
        f"/api/rectifications/{rect_id}/photos/{photo['id']}", headers=world.headers("reg_x")
    )
    img = Image.open(io.BytesIO(served.content))
    assert img.format == "JPEG" and (img.width, img.height) == (400, 300)
    assert not img.getexif() and served.content != original
    import hashlib

    assert hashlib.sha256(served.content).hexdigest() == photo["sha256"]


def test_png_is_accepted_and_becomes_jpeg(world: World, tmp_path: Path) -> None:
    rect_id = ordered_rect(world, tmp_path)
    buf = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 255, 0, 128)).save(buf, format="PNG")
    code, body = submit(world, rect_id, [("p.png", buf.getvalue(), "image/png")])
    assert code == 200 and body["photos"][0]["content_type"] == "image/jpeg"  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "data", "ctype", "code"),
    [
        ("evil.jpg", b"<?php system($_GET['c']); ?>", "image/jpeg", 415),
        ("doc.pdf", b"%PDF-1.4\n" + b"x" * 100, "application/pdf", 415),
        ("fake.gif", b"GIF89a" + b"\x00" * 50, "image/gif", 415),
        ("huge.jpg", b"\xff\xd8" + b"\x00" * 6_000_000, "image/jpeg", 413),
    ],
)
def test_bad_uploads_are_refused_and_nothing_changes(
    world: World, tmp_path: Path, name: str, data: bytes, ctype: str, code: int
) -> None:
    rect_id = ordered_rect(world, tmp_path)
    got, body = submit(world, rect_id, [(name, data, ctype)])
    assert got == code and body["detail"]
    rect = world.client.get(f"/api/rectifications/{rect_id}", headers=world.headers("staff_a")).json()
    assert rect["status"] == "ordered" and rect["photos"] == []


def test_decompression_bomb_is_refused(world: World, tmp_path: Path) -> None:
    rect_id = ordered_rect(world, tmp_path)
    buf = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(buf, format="PNG")  # 50 Mpx, a few KB
    got, body = submit(world, rect_id, [("bomb.png", buf.getvalue(), "image/png")])
    assert got == 415 and "too large" in str(body["detail"])


def test_too_many_photos(world: World, tmp_path: Path) -> None:
    rect_id = ordered_rect(world, tmp_path)
    got, body = submit(
        world, rect_id, [(f"{i}.jpg", make_jpeg(size=(32, 32)), "image/jpeg") for i in range(6)]
    )
    assert got == 400 and "1 to 5 photos" in str(body["detail"])


def test_second_submission_conflicts(world: World, tmp_path: Path) -> None:
    rect_id = ordered_rect(world, tmp_path)
    assert submit(world, rect_id, [("a.jpg", make_jpeg(), "image/jpeg")])[0] == 200
    got, body = submit(world, rect_id, [("b.jpg", make_jpeg(), "image/jpeg")])
    assert got == 409 and "submitted" in str(body["detail"])
    with world.services.session_factory() as s:
        assert len(s.get_one(Rectification, uuid.UUID(rect_id)).photos) == 1
