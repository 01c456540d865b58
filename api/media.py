"""Files under the media root: storing with content hashes, resolving safely, re-encoding photos.

Paths in the database are relative to the media root and are resolved with ``safe_path``, which
refuses anything that would land outside it (``..``, absolute paths, symlinks pointing out).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

CHUNK = 1 << 20
MEDIA_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_MAX_SIDE_PX = 2048


class UnsafePath(ValueError):
    pass


def safe_path(root: Path, rel: str) -> Path:
    """``root / rel`` if it stays inside ``root`` after resolving; else ``UnsafePath``."""
    if not rel or rel.startswith(("/", "\\")) or "\x00" in rel:
        raise UnsafePath(f"refused media path {rel!r}")
    base = root.resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise UnsafePath(f"refused media path {rel!r}: outside the media root")
    return target


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Stored:
    rel_path: str
    sha256: str
    size_bytes: int
    content_type: str


def copy_in(root: Path, src: Path, rel_dest: str) -> Stored:
    """Copy ``src`` to ``root/rel_dest`` atomically (temp file + rename), hashing as it goes."""
    dest = safe_path(root, rel_dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    h, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
    try:
        with src.open("rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
                fout.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Stored(
        rel_dest, h.hexdigest(), size, MEDIA_TYPES.get(dest.suffix.lower(), "application/octet-stream")
    )


def write_bytes(root: Path, rel_dest: str, data: bytes, content_type: str) -> Stored:
    dest = safe_path(root, rel_dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
    with os.fdopen(fd, "wb") as fout:
        fout.write(data)
    os.replace(tmp, dest)
    return Stored(rel_dest, hashlib.sha256(data).hexdigest(), len(data), content_type)


class BadPhoto(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Photo:
    jpeg: bytes
    width: int
    height: int


def reencode_photo(data: bytes, max_pixels: int) -> Photo:
    """Decode an upload and write a fresh JPEG: only pixels survive (no EXIF/GPS, no payloads).

    The declared content type is not trusted; Pillow must recognise JPEG, PNG or WebP, and
    images over ``max_pixels`` are refused before decoding (decompression bombs).
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in PHOTO_FORMATS:
                raise BadPhoto(f"unsupported image format {img.format}; use JPEG, PNG or WebP")
            if img.width * img.height > max_pixels:
                raise BadPhoto(f"image too large: {img.width}x{img.height} px (limit {max_pixels} px)")
            img.load()
            upright = ImageOps.exif_transpose(img).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise BadPhoto("not a readable image (JPEG, PNG or WebP expected)") from exc
    upright.thumbnail((PHOTO_MAX_SIDE_PX, PHOTO_MAX_SIDE_PX))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=85, optimize=True)
    return Photo(out.getvalue(), upright.width, upright.height)


def remove_tree(root: Path, rel_dir: str) -> None:
    shutil.rmtree(safe_path(root, rel_dir), ignore_errors=True)
