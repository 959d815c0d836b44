"""Reading spac shards for training: the split's shard list from ``index.json``, raw samples of one tar (our own
header walk, ``tarfile`` as the fallback), and the endless reshuffled stream a loader worker draws from."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from plip.sampling import RawSample, seeded
from spac.records import RecordError


@dataclass(frozen=True)
class Shard:
    path: Path
    samples: int


def read_split(root: str | Path, split: str) -> list[Shard]:
    """The shards of ``split`` with their sample counts, from ``index.json`` (the folder's done marker).

    Raises:
        FileNotFoundError / ValueError: naming the folder, when it is not a finished build or has no such split.
    """
    root = Path(root)
    index_path = root / "index.json"
    if not index_path.is_file():
        raise FileNotFoundError(f"{index_path} not found: {root} is not a finished shard folder (run spac generate)")
    index = json.loads(index_path.read_text())
    entry = index.get("splits", {}).get(split)
    if not entry or not entry.get("shards"):
        raise ValueError(f"{index_path}: no shards for split {split!r} (splits: {sorted(index.get('splits', {}))})")
    shards = [Shard(root / s["tar"], int(s["samples"])) for s in entry["shards"]]
    for shard in shards:
        if not shard.path.is_file():
            raise FileNotFoundError(f"{shard.path}: listed in {index_path} but missing")
    return shards


def read_raw(path: str | Path) -> Iterator[RawSample]:
    """Raw samples of one tar (members grouped by key, as WebDataset does) with the ``json`` member parsed.

    Headers are parsed by :func:`tar_files` (a tenth of ``tarfile``'s cost per member, a third of the generic
    WebDataset expander's; it matters next to a ~1 ms JPEG decode). A sample without an image or JSON member
    raises, naming the tar and the key.
    """
    sample: RawSample = {}
    for name, data in tar_files(path):
        dot = name.find(".", name.rfind("/") + 1)
        if dot < 0:
            raise RecordError(f"{path}: member {name!r} has no extension")
        key, ext = name[:dot], name[dot + 1 :].lower()
        if sample and key != sample["__key__"]:
            yield _finish(sample)
            sample = {}
        if not sample:
            sample = {"__key__": key, "__url__": str(path)}
        sample[ext] = data
    if sample:
        yield _finish(sample)


def tar_files(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """``(name, data)`` of the regular files of an uncompressed tar, in order: what ``tarfile``'s stream mode gives.

    Plain ustar/GNU headers of regular files (what ``spac`` and WebDataset writers produce) are parsed here; at any
    other valid header (pax, long names, links, directories) the rest of the file is read by ``tarfile`` from that
    header on. Like ``tarfile``, a zero, short or corrupt header ends the archive, and is an error only at the
    start of the file (there ``tarfile`` is asked, for its message).
    """
    with open(path, "rb", buffering=1 << 20) as f:
        while True:
            offset = f.tell()
            header = f.read(512)
            kind, size = _header_kind(header)
            if kind == "file":
                name = header[:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                data, pad = f.read(size), -size % 512
                if len(data) == size and len(f.read(pad)) == pad:  # tarfile also wants the block padding
                    yield name, data
                    continue
            elif kind == "end" and offset:
                return
            f.seek(offset)  # another header type, truncated data, or a bad start: tarfile's behaviour and errors
            with tarfile.open(fileobj=f, mode="r|") as tar:
                for member in tar:
                    if member.isfile():
                        yield member.name, tar.extractfile(member).read()
            return


def _header_kind(header: bytes) -> tuple[str, int]:
    """``("file", size)`` for a plain regular-file header; ``("end", 0)`` for an empty, short, zero or corrupt one
    (where ``tarfile`` stops); ``("other", 0)`` for any other valid header."""
    if len(header) != 512 or not any(header):
        return "end", 0
    try:
        checksum = int(header[148:156].split(b"\0", 1)[0].strip() or b"0", 8)
        size = -1 if header[124] & 0x80 else int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:
        return "end", 0
    unsigned = 256 + sum(header[:148]) + sum(header[156:])
    if checksum != unsigned:  # tarfile also accepts the signed-byte sum of old writers
        signed = unsigned - 256 * sum(b >= 128 for b in header[:148] + header[156:])
        return ("other", 0) if checksum == signed else ("end", 0)
    if header[156] != 0x30 or header[345] or size < 0:  # not a regular file, a ustar prefix, a base-256 size
        return "other", 0
    return "file", size


def _finish(sample: RawSample) -> RawSample:
    if "json" not in sample or not ("jpg" in sample or "png" in sample):
        members = sorted(k for k in sample if not k.startswith("__"))
        raise RecordError(f"{sample['__url__']}: sample {sample['__key__']!r} lacks .jpg/.png or .json ({members})")
    try:
        sample["json"] = json.loads(sample["json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecordError(f"{sample['__url__']}: sample {sample['__key__']!r}: bad JSON ({err})") from None
    return sample


def endless_samples(paths: Sequence[str], *parts: object) -> Iterator[RawSample]:
    """``paths`` read in order, then again reshuffled (seeded by ``parts`` and the pass), forever.

    Raises:
        RuntimeError: when a full pass yields nothing (an empty or mis-keyed stream would otherwise spin).
    """
    order, n = list(paths), 0
    while True:
        count = 0
        for path in order:
            for sample in read_raw(path):
                count += 1
                yield sample
        if count == 0:
            raise RuntimeError(f"shards {list(paths)} yielded no samples (members must be <key>.jpg/.json/.txt)")
        n += 1
        order = list(paths)
        seeded("pass", *parts, n).shuffle(order)

