"""Read a finished shard folder back: its index, the tar paths of a split, and the records they hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spac.records import PersonRecord, from_sample
from spac.shards.layout import INDEX, SPLITS, ShardError
from spac.shards.tar import iter_tar_samples


def read_index(out: Path) -> dict[str, Any]:
    """The folder's ``index.json``; raises :class:`ShardError` when the folder is not a finished build."""
    path = Path(out) / INDEX
    if not path.is_file():
        raise ShardError(f"{path} not found: {out} is not a finished shard folder (is `spac generate` still running?)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ShardError(f"{path}: not valid JSON ({err})") from None


def list_shards(out: Path, split: str = "train") -> list[Path]:
    """Tar paths of ``split`` in shard order (an empty list when the build has no such split)."""
    if split not in SPLITS:
        raise ShardError(f"split must be one of {SPLITS}, got {split!r}")
    index = read_index(out)
    entry = index["splits"].get(split)
    return [] if entry is None else [Path(out) / s["tar"] for s in entry["shards"]]


def iter_samples(tar: Path) -> Iterator[dict[str, Any]]:
    """Raw WebDataset samples (``__key__``, ``__url__`` and bytes members) of one tar."""
    yield from iter_tar_samples(Path(tar))


def iter_records(out: Path, split: str = "train") -> Iterator[PersonRecord]:
    """Every record of a split, in shard and key order, with image bytes (via ``spac.records.from_sample``)."""
    for tar in list_shards(out, split):
        for sample in iter_tar_samples(tar):
            yield from_sample(sample)
