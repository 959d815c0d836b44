"""Names and sizes of the shard folder layout (ARCHITECTURE.md §3): one place that knows every file name.

```
out/
  train-000000.tar  train-000001.tar  val-000000.tar ...     WebDataset shards (<key>.jpg/.json/.txt)
  meta/train-000000.parquet                                   ledger: one row per INPUT record
  meta/train-000000.stats.json                                written last: the shard's done marker
  meta/run.parquet                                            run-level ledger (bad join lines, unknown refs)
  index.json  sizes.json                                      written once every shard is done
```
"""

from __future__ import annotations

from pathlib import Path

SPLITS: tuple[str, ...] = ("train", "val")
MEMBERS: tuple[str, ...] = ("jpg", "json", "txt")  # every sample has exactly these, in this (sorted) order
SHARD_DIGITS = 6
INDEX_DIGITS = 6
MAX_SAMPLES_PER_SHARD = 10**INDEX_DIGITS - 1
BLOCK = 512  # tar block
RECORD = 20 * BLOCK  # tarfile pads the archive to a multiple of its record size
META = "meta"
INDEX = "index.json"
SIZES = "sizes.json"
RUN_LEDGER = "run.parquet"
WORK = ".work"  # intermediate per-unit results; removed once index.json is written


class ShardError(RuntimeError):
    """A shard folder that is unfinished, inconsistent or was built with another configuration."""


def shard_name(split: str, shard: int) -> str:
    """``train-000003`` (no extension)."""
    if split not in SPLITS:
        raise ShardError(f"split must be one of {SPLITS}, got {split!r}")
    if not 0 <= shard < 10**SHARD_DIGITS:
        raise ShardError(f"shard number {shard} does not fit {SHARD_DIGITS} digits")
    return f"{split}-{shard:0{SHARD_DIGITS}d}"


def make_key(split: str, shard: int, index: int) -> str:
    """Dot-free, sortable, globally unique sample key: ``{shard:06d}{index:06d}``, prefixed ``v`` in ``val``.

    The split prefix keeps keys unique across the folder while train keys stay pure digits.
    """
    if not 0 <= index <= MAX_SAMPLES_PER_SHARD:
        raise ShardError(f"sample index {index} does not fit {INDEX_DIGITS} digits")
    prefix = "" if split == "train" else split[0]
    return f"{prefix}{shard:0{SHARD_DIGITS}d}{index:0{INDEX_DIGITS}d}"


def tar_path(out: Path, split: str, shard: int) -> Path:
    return Path(out) / f"{shard_name(split, shard)}.tar"


def ledger_path(out: Path, split: str, shard: int) -> Path:
    return Path(out) / META / f"{shard_name(split, shard)}.parquet"


def stats_path(out: Path, split: str, shard: int) -> Path:
    return Path(out) / META / f"{shard_name(split, shard)}.stats.json"


def member_bytes(size: int) -> int:
    """Bytes one member of ``size`` bytes takes in a tar: a header block plus its data padded to blocks."""
    return BLOCK + -(-size // BLOCK) * BLOCK


def sample_bytes(sample: dict) -> int:
    """Bytes a WebDataset sample (``__key__`` plus byte members) takes in a tar."""
    return sum(member_bytes(len(v)) for k, v in sample.items() if not k.startswith("__"))


def archive_bytes(payload: int) -> int:
    """Size of a tar file whose members take ``payload`` bytes: two zero end blocks, padded to a record."""
    return -(-(payload + 2 * BLOCK) // RECORD) * RECORD
