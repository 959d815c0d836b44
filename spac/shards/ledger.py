"""The per-shard ledger: one parquet row per INPUT record, kept or dropped, with the reason (img2dataset-style).

A record that does not reach a tar is never lost silently: its row says why (``missing_image``,
``corrupt_image``, ``attribute_quality``, ...). The run-level ledger uses the same columns for things that are
not input records of a shard (malformed captioner lines, annotations for unknown ``source_ref``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

KEPT = "kept"
DROPPED = "dropped"
INVALID = "invalid"  # a line of a join input that could not be used at all
UNMATCHED = "unmatched"  # a join input line whose source_ref no source record has


@dataclass(frozen=True, kw_only=True, slots=True)
class LedgerRow:
    """One input record's fate. ``key`` is set when kept; ``reason``/``detail`` when not."""

    source: str | None
    source_ref: str | None
    person_id: int | None
    key: str | None
    status: str
    reason: str | None = None
    detail: str | None = None


def _schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("source", pa.string()),
            ("source_ref", pa.string()),
            ("person_id", pa.int64()),
            ("key", pa.string()),
            ("status", pa.string()),
            ("reason", pa.string()),
            ("detail", pa.string()),
        ]
    )


def write_ledger(path: Path, rows: Iterable[LedgerRow]) -> None:
    """Write ``rows`` to a parquet file atomically (temporary name, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from spac.shards.tar import replace_atomically

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema, rows = _schema(), [asdict(r) for r in rows]
    # column by column: Table.from_pylist imports pandas (~0.8 s per process)
    table = pa.Table.from_arrays([pa.array([r[f.name] for r in rows], type=f.type) for f in schema], schema=schema)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    replace_atomically(tmp, path)


def read_ledger(path: Path) -> list[LedgerRow]:
    import pyarrow.parquet as pq

    return [LedgerRow(**row) for row in pq.read_table(path).to_pylist()]


def drop_counts(rows: Iterable[LedgerRow]) -> dict[str, int]:
    """``{reason: n}`` over the rows that were not kept, sorted by reason."""
    counts = Counter(r.reason or "unknown" for r in rows if r.status != KEPT)
    return dict(sorted(counts.items()))
