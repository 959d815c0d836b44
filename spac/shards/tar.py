"""Byte-reproducible tar writing: fixed member metadata and order, written under a temporary name then renamed.

Identical samples give identical bytes: every member gets the same mtime, uid/gid, owner names and mode, members
of a sample are written in sorted extension order, and the USTAR format carries no per-run PAX headers. We write
with :mod:`tarfile` instead of ``webdataset.TarWriter`` because importing webdataset pulls in torch, and spac's
data steps stay torch-free.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path

MTIME = 946684800  # 2000-01-01T00:00:00Z; any constant works, 0 confuses some tools
MODE = 0o444


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def replace_atomically(tmp: Path, final: Path) -> None:
    """Flush ``tmp`` to disk and rename it over ``final`` (readers never see a half-written file)."""
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    replace_atomically(tmp, path)


def write_tar(path: Path, samples: Iterable[Mapping[str, object]]) -> tuple[int, str]:
    """Write WebDataset ``samples`` (``__key__`` + bytes members) to ``path`` atomically.

    Returns:
        ``(size_in_bytes, sha256_hex)`` of the finished tar.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with tarfile.open(tmp, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for sample in samples:
            key = sample["__key__"]
            for ext in sorted(k for k in sample if not k.startswith("__")):
                data = sample[ext]
                if isinstance(data, str):
                    data = data.encode("utf-8")
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                info.mtime = MTIME
                info.mode = MODE
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
    replace_atomically(tmp, path)
    return path.stat().st_size, sha256_file(path)


def iter_tar_samples(path: Path) -> Iterable[dict[str, object]]:
    """Stream the samples of a tar: consecutive members sharing a key (text before the first dot) form a sample.

    Raises:
        ValueError: on a member name without an extension or a key that reappears after other keys (the
            members of one sample must be contiguous).
    """
    seen: set[str] = set()
    current: dict[str, object] | None = None
    with tarfile.open(path, mode="r|") as tar:
        for info in tar:
            if not info.isfile():
                continue
            name = info.name.rsplit("/", 1)[-1]
            if "." not in name:
                raise ValueError(f"{path}: member {info.name!r} has no extension")
            key, ext = name.split(".", 1)
            data = tar.extractfile(info).read()
            if current is not None and current["__key__"] == key:
                current[ext] = data
                continue
            if current is not None:
                yield current
            if key in seen:
                raise ValueError(f"{path}: members of sample {key!r} are not contiguous")
            seen.add(key)
            current = {"__key__": key, "__url__": str(path), ext: data}
    if current is not None:
        yield current
