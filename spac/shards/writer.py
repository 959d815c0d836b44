"""Write one finished shard (tar, ledger, stats marker) and, once all are done, the folder's index.

Order matters for resume: the tar and the ledger are renamed into place first, the stats JSON last, so a shard
counts as done exactly when its stats file exists (img2dataset's commit marker). ``index.json`` and
``sizes.json`` are written after every shard of every split is done.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spac.records import PersonRecord, to_sample
from spac.shards.layout import (
    INDEX,
    META,
    SIZES,
    SPLITS,
    ShardError,
    ledger_path,
    make_key,
    shard_name,
    stats_path,
    tar_path,
)
from spac.shards.ledger import DROPPED, KEPT, LedgerRow, drop_counts, write_ledger
from spac.shards.tar import write_bytes_atomically, write_tar


@dataclass(frozen=True, slots=True)
class ShardItem:
    """One input record on its way into a shard: kept when ``reason`` is None, else a ledger-only drop."""

    record: PersonRecord
    reason: str | None = None
    detail: str | None = None


def dumps(obj: Any) -> bytes:
    """Canonical JSON for metadata files (sorted keys, fixed indent) so reruns give identical bytes."""
    return (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def is_done(out: Path, split: str, shard: int) -> bool:
    return stats_path(out, split, shard).is_file()


def write_shard(
    out: Path, split: str, shard: int, items: Sequence[ShardItem], *, config: Mapping[str, Any]
) -> dict[str, Any]:
    """Write ``{split}-{shard}.tar`` from the kept items (keys assigned in order), its ledger, then its stats.

    Args:
        out: output folder.
        items: every input record of this shard in input order, kept or dropped.
        config: the resolved generate config (stored in the stats, with its digest under ``config_sha256``).

    Returns:
        The stats dict that was written.
    """
    out = Path(out)
    (out / META).mkdir(parents=True, exist_ok=True)
    rows: list[LedgerRow] = []
    identities: set[int] = set()

    def samples():
        index = 0
        for item in items:
            rec = item.record
            if item.reason is None:
                key = make_key(split, shard, index)
                index += 1
                identities.add(rec.person_id)
                rows.append(LedgerRow(source=rec.source, source_ref=rec.source_ref, person_id=rec.person_id,
                                      key=key, status=KEPT))
                yield to_sample(dataclasses.replace(rec, key=key))
            else:
                rows.append(LedgerRow(source=rec.source, source_ref=rec.source_ref, person_id=rec.person_id,
                                      key=None, status=DROPPED, reason=item.reason, detail=item.detail))

    size, sha = write_tar(tar_path(out, split, shard), samples())
    write_ledger(ledger_path(out, split, shard), rows)
    kept = sum(r.status == KEPT for r in rows)
    stats = {
        "shard": shard_name(split, shard),
        "split": split,
        "tar": tar_path(out, split, shard).name,
        "samples": kept,
        "identities": len(identities),
        "input_records": len(rows),
        "dropped": drop_counts(rows),
        "bytes": size,
        "sha256": sha,
        "config_sha256": config_digest(config),
        "config": dict(config),
    }
    write_bytes_atomically(stats_path(out, split, shard), dumps(stats))  # LAST: the done marker
    return stats


def config_digest(config: Mapping[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def read_stats(out: Path, split: str, shard: int) -> dict[str, Any]:
    path = stats_path(out, split, shard)
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ShardError(f"{path}: cannot read shard stats ({err})") from None


def write_index(out: Path, shard_counts: Mapping[str, int], *, config: Mapping[str, Any],
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``index.json`` (shards with samples, bytes, sha256 per split) and ``sizes.json`` (open_clip style).

    Args:
        shard_counts: ``{split: number_of_shards}``; every one of those shards must be done.
        extra: more top-level fields for the index (e.g. run-level drop counts).
    """
    out = Path(out)
    index: dict[str, Any] = {"schema": "spac/1", "config_sha256": config_digest(config), "config": dict(config),
                             "splits": {}}
    sizes: dict[str, int] = {}
    for split in SPLITS:
        n = shard_counts.get(split, 0)
        if n == 0:
            continue
        shards, dropped = [], {}
        for shard in range(n):
            if not is_done(out, split, shard):
                raise ShardError(f"{stats_path(out, split, shard)} is missing: shard not finished")
            st = read_stats(out, split, shard)
            shards.append({k: st[k] for k in ("tar", "samples", "identities", "input_records", "bytes", "sha256")})
            for reason, count in st["dropped"].items():
                dropped[reason] = dropped.get(reason, 0) + count
            sizes[st["tar"]] = st["samples"]
        index["splits"][split] = {
            "shards": shards,
            "samples": sum(s["samples"] for s in shards),
            "identities": sum(s["identities"] for s in shards),
            "input_records": sum(s["input_records"] for s in shards),
            "bytes": sum(s["bytes"] for s in shards),
            "dropped": dict(sorted(dropped.items())),
        }
    index.update(extra or {})
    write_bytes_atomically(out / SIZES, dumps(sizes))
    write_bytes_atomically(out / INDEX, dumps(index))  # last: the folder's done marker
    return index

