"""Shared helpers of the file-based sources: which files are images, and reading one safely.

Sources keep the original bytes (no re-encode): a PNG stays a PNG and its record says ``image_ext="png"``, so
no quality is lost and the shard writer decides whether to convert. Reading checks the magic bytes, so a file
whose content does not match its name becomes a per-record :class:`ImageReadError`, not a bad shard member.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from spac.sources.base import ImageReadError, SourceError

IMAGE_SUFFIXES = {".jpg": "jpg", ".jpeg": "jpg", ".png": "png"}
_MAGIC = {"jpg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}


def image_ext(name: str) -> str | None:
    """``"jpg"``/``"png"`` for a supported image file name (case-insensitive), else ``None``."""
    return IMAGE_SUFFIXES.get(os.path.splitext(name)[1].lower())


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise SourceError(f"{what}: {path} is not a directory")
    return path


def sorted_entries(path: Path) -> list[os.DirEntry]:
    """Directory entries sorted by name (the order every source iterates in, so ids are deterministic)."""
    with os.scandir(path) as it:
        return sorted(it, key=lambda e: e.name)


def list_images(path: Path) -> list[str]:
    """Sorted names of the image files directly inside ``path``."""
    return [e.name for e in sorted_entries(path) if e.is_file() and image_ext(e.name)]


def resolve_ref(root: Path, ref: str) -> Path:
    """``root / ref`` for a relative reference that stays inside ``root``; otherwise an ImageReadError."""
    rel = PurePosixPath(ref.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ImageReadError(f"{ref!r} is not a relative path inside {root}", reason="bad_path")
    return root.joinpath(*rel.parts)


def read_image_file(path: Path, ext: str) -> bytes:
    """The bytes of one image; missing, empty, unreadable or mislabelled files raise ImageReadError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"{path}: image file is missing", reason="missing_image") from None
    except OSError as err:
        raise ImageReadError(f"{path}: cannot read image ({err})", reason="unreadable_image") from None
    if not data:
        raise ImageReadError(f"{path}: image file is empty", reason="empty_image")
    magic = _MAGIC.get(ext)
    if magic is not None and not data.startswith(magic):
        raise ImageReadError(f"{path}: content is not a {ext.upper()} image", reason="bad_image_format")
    return data
