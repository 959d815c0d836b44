"""The ``lupers`` source: LUPerson and LUPerson-NL, packed (LMDB) or extracted (folders) (FORMATS.md).

Packed layout, as distributed: ``root/lmdb/`` (an LMDB environment of raw JPEG bytes keyed by ASCII keys) and
``root/keys.pkl`` (also looked for inside ``lmdb/``; ``keys=`` names it explicitly). ``keys.pkl`` is either a
dict ``{"keys": [...], "pids": [...]}`` (LUPerson-NL; ``pids`` optional) or a plain list of keys (LUPerson).
It is read with a restricted unpickler that builds only builtin containers, str and int: a pickle that asks
for any other global (the way malicious pickles run code) is refused with a SourceError naming the file.

- With ``pids`` (LUPerson-NL): an identity is one tracklet, ``(video, pid)`` where ``video`` is the key's
  first ``_`` field (``"{video:05d}_{pid}_{frame}_{obj}"``); pids are per-video, so equal pids in different
  videos stay different people. ``tracklet`` = pid.
- Without (LUPerson): one identity per image.

Extracted layout: ``root/<country>/<city>/<video>/*.jpg``. LUPerson-NL names ``{pid:06d}_{frame:07d}_{obj:02d}.jpg``
group by ``(video, pid)``; any other name (or ``labels="none"``) is an identity of its own.

``person_id`` numbers identities 0.. in order (keys.pkl order of tracklet completion, or the sorted folder
walk), so neighbouring ids are neighbouring tracklets, as the Seed Filter's reassignment expects. The LMDB is
opened lazily, read-only and lock-free, once per process; only the key list is held in memory, never images.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spac.records import PersonRecord
from spac.sources.base import ImageReadError, Source, SourceError, register_source
from spac.sources.files import image_ext, list_images, read_image_file, require_dir, resolve_ref, sorted_entries

NL_NAME = re.compile(r"^(\d{6})_(\d{7})_(\d{2})\.jpg$")
_ALLOWED_GLOBALS = {("builtins", n) for n in ("list", "dict", "tuple", "set", "frozenset", "str", "int", "bytes")}
_ENVS: dict[tuple[int, str], Any] = {}  # (process id, lmdb path) -> open environment


class _BuiltinsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed (only builtin containers, str, int)")


def load_keys(path: Path) -> tuple[list[str], list[int] | None]:
    """``(keys, pids or None)`` from a LUPerson ``keys.pkl``, refusing anything but builtin containers."""
    try:
        data = _BuiltinsOnly(io.BytesIO(path.read_bytes())).load()
    except FileNotFoundError:
        raise SourceError(f"lupers source: {path} does not exist") from None
    except Exception as err:  # any unpickling failure means the file is unusable
        raise SourceError(f"lupers source: {path} is not a safe keys pickle: {err}") from None
    pids = None
    if isinstance(data, dict):
        if "keys" not in data:
            raise SourceError(f"lupers source: {path} holds a dict without 'keys' (has {sorted(map(str, data))})")
        keys, pids = data["keys"], data.get("pids")
    else:
        keys = data
    if not isinstance(keys, (list, tuple)):
        raise SourceError(f"lupers source: {path}: keys must be a list, got {type(keys).__name__}")
    keys = [k.decode("ascii") if isinstance(k, bytes) else k for k in keys]
    if not all(isinstance(k, str) for k in keys):
        raise SourceError(f"lupers source: {path}: every key must be a string")
    if pids is not None:
        if not isinstance(pids, (list, tuple)) or len(pids) != len(keys):
            raise SourceError(f"lupers source: {path}: 'pids' must be a list as long as 'keys' ({len(keys)})")
        if not all(isinstance(p, int) and not isinstance(p, bool) for p in pids):
            raise SourceError(f"lupers source: {path}: every pid must be an int")
        pids = list(pids)
    return keys, pids


def _environment(path: str) -> Any:
    """The process's read-only LMDB environment for ``path`` (re-opened after a fork)."""
    path = os.path.realpath(path)  # LMDB refuses a second handle on one environment in a process
    handle = (os.getpid(), path)
    env = _ENVS.get(handle)
    if env is None:
        import lmdb

        try:
            env = lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False, max_readers=512)
        except lmdb.Error as err:
            raise SourceError(f"lupers source: cannot open LMDB {path}: {err}") from None
        _ENVS[handle] = env
    return env


def _tracklets(keys: list[str], pids: list[int]) -> Iterator[list[int]]:
    """Indices of each ``(video, pid)`` tracklet, yielded as soon as the tracklet is complete.

    A first pass counts each tracklet's images, so the usual key order (a tracklet's keys contiguous) streams
    with one pending group at a time; scattered keys are still grouped correctly, just held longer.
    """

    def label(i: int) -> tuple[str, int]:
        key = keys[i]
        return (key.split("_", 1)[0] if "_" in key else "", pids[i])

    counts: dict[tuple[str, int], int] = {}
    for i in range(len(keys)):
        lab = label(i)
        counts[lab] = counts.get(lab, 0) + 1
    pending: dict[tuple[str, int], list[int]] = {}
    for i in range(len(keys)):
        lab = label(i)
        group = pending.setdefault(lab, [])
        group.append(i)
        if len(group) == counts[lab]:
            yield pending.pop(lab)


@register_source
class LupersSource(Source):
    name = "lupers"

    def __init__(self, *, root: str | Path, keys: str | Path | None = None, labels: str = "auto") -> None:
        if labels not in ("auto", "none"):
            raise SourceError(f"lupers source: labels must be 'auto' or 'none', got {labels!r}")
        super().__init__(root=str(root), keys=None if keys is None else str(keys), labels=labels)
        self.root = require_dir(Path(root), "lupers source")
        self.labels = labels
        self.lmdb_dir: Path | None = None
        self.keys_path: Path | None = None
        packed = keys is not None or any((self.root / n).exists() for n in ("lmdb", "keys.pkl", "data.mdb"))
        if packed:
            self.lmdb_dir = self.root / "lmdb" if (self.root / "lmdb").exists() else self.root
            if not (self.lmdb_dir / "data.mdb").is_file():
                raise SourceError(f"lupers source: LMDB data file {self.lmdb_dir / 'data.mdb'} is missing")
            candidates = [Path(keys)] if keys is not None else [self.root / "keys.pkl", self.lmdb_dir / "keys.pkl"]
            self.keys_path = next((p for p in candidates if p.is_file()), None)
            if self.keys_path is None:
                raise SourceError(f"lupers source: key index {candidates[0]} is missing")

    def identities(self) -> Iterator[list[PersonRecord]]:
        yield from self._packed() if self.keys_path is not None else self._extracted()

    def _packed(self) -> Iterator[list[PersonRecord]]:
        keys, pids = load_keys(self.keys_path)
        if pids is None or self.labels == "none":
            for i, key in enumerate(keys):
                yield [PersonRecord(source=self.name, source_ref=key, person_id=i)]
            return
        for person_id, indices in enumerate(_tracklets(keys, pids)):
            yield [
                PersonRecord(source=self.name, source_ref=keys[i], person_id=person_id, tracklet=pids[i])
                for i in indices
            ]

    def _extracted(self) -> Iterator[list[PersonRecord]]:
        person_id = 0
        found = False
        for country in sorted_entries(self.root):
            self._check_no_images(country, "country")
            for city in sorted_entries(Path(country.path)) if country.is_dir() else ():
                self._check_no_images(city, "city")
                for video in sorted_entries(Path(city.path)) if city.is_dir() else ():
                    self._check_no_images(video, "video")
                    if not video.is_dir():
                        continue
                    rel = f"{country.name}/{city.name}/{video.name}"
                    names = list_images(Path(video.path))
                    found = found or bool(names)
                    groups: dict[object, list[str]] = {}
                    for i, name in enumerate(names):
                        match = NL_NAME.match(name) if self.labels == "auto" else None
                        groups.setdefault(int(match.group(1)) if match else ("single", i), []).append(name)
                    for label, members in groups.items():
                        tracklet = label if isinstance(label, int) else None
                        yield [
                            PersonRecord(source=self.name, source_ref=f"{rel}/{name}", person_id=person_id,
                                         tracklet=tracklet, image_ext=image_ext(name) or "jpg")
                            for name in members
                        ]
                        person_id += 1
        if not found:
            raise SourceError(f"lupers source: no images at <country>/<city>/<video>/*.jpg under {self.root} "
                              "and no lmdb/ + keys.pkl there")

    def _check_no_images(self, entry: os.DirEntry, level: str) -> None:
        if entry.is_file() and image_ext(entry.name):
            raise SourceError(f"lupers source: image {Path(entry.path)} sits where a {level} folder belongs; expected "
                              "<country>/<city>/<video>/*.jpg")

    def read_image(self, record: PersonRecord) -> bytes:
        if self.lmdb_dir is None:
            return read_image_file(resolve_ref(self.root, record.source_ref), record.image_ext)
        env = _environment(str(self.lmdb_dir))
        with env.begin(write=False) as txn:
            data = txn.get(record.source_ref.encode("utf-8"))
        if data is None:
            raise ImageReadError(f"{self.lmdb_dir}: LMDB has no key {record.source_ref!r}", reason="missing_key")
        if not data:
            raise ImageReadError(f"{self.lmdb_dir}: key {record.source_ref!r} holds no bytes", reason="empty_image")
        if not data.startswith(b"\xff\xd8\xff"):
            raise ImageReadError(f"{self.lmdb_dir}: key {record.source_ref!r} holds no JPEG",
                                 reason="bad_image_format")
        return bytes(data)
