"""Build statistics of a finished shard folder, gathered for its dataset card (``spac card``) and ``stats.png``.

Counts per split and drops by reason come from ``index.json`` (``spac generate`` writes them there from the
same rows it writes to the ledgers, by way of the shards' stats files) and everything about the records
(attribute values per slot, captions per image, styles, caption lengths, images per identity, examples) from the
``.json`` members of the tars; the image members are skipped without being read, so a scan costs about one JSON
parse per sample. Everything is a pure function of the folder's contents (no paths, no clock), so the same build
gives the same card bytes.
"""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spac.records import SLOTS
from spac.shards.layout import SPLITS, ShardError
from spac.shards.reader import read_index


@dataclass(frozen=True, kw_only=True)
class SplitStats:
    """What one split holds and lost; ``dropped`` is ``{reason: n}`` counted from the ledgers."""

    name: str
    shards: int
    samples: int
    identities: int
    input_records: int
    bytes: int
    dropped: dict[str, int]


@dataclass
class CardStats:
    """Everything a card shows; built by :func:`collect_stats`."""

    source: str
    options: dict[str, Any]
    seed: int | None
    config_sha256: str
    config: dict[str, Any]
    splits: dict[str, SplitStats] = field(default_factory=dict)
    run_ledger: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SLOTS})
    captions_per_image: Counter = field(default_factory=Counter)
    styles: Counter = field(default_factory=Counter)
    generators: Counter = field(default_factory=Counter)
    caption_words: list[int] = field(default_factory=list)
    prompt_words: list[int] = field(default_factory=list)
    images_per_identity: Counter = field(default_factory=Counter)  # person_id -> images (all splits)
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(s.samples for s in self.splits.values())

    def dropped(self) -> dict[str, int]:
        """Drops by reason over all splits (input records only; the run ledger is separate)."""
        total: Counter = Counter()
        for s in self.splits.values():
            total.update(s.dropped)
        return dict(sorted(total.items()))


def iter_json_members(tar: Path) -> Iterator[dict[str, Any]]:
    """The parsed ``.json`` member of every sample of ``tar``, in order; other members are skipped unread."""
    try:
        with tarfile.open(tar, mode="r:") as fh:  # random access: data of skipped members is seeked over
            for info in fh:
                if info.isfile() and info.name.endswith(".json"):
                    yield json.loads(fh.extractfile(info).read().decode("utf-8"))
    except (tarfile.TarError, OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShardError(f"{tar}: cannot read the records for the card ({err})") from None


def collect_stats(folder: Path, *, examples: int = 3, progress: bool = False) -> CardStats:
    """Gather :class:`CardStats` from the finished shard folder ``folder`` (raises :class:`ShardError` if not)."""
    folder = Path(folder)
    index = read_index(folder)
    config = index.get("config", {})
    source = config.get("source", {})
    stats = CardStats(source=source.get("name", "unknown"), options=dict(source.get("options", {})),
                      seed=config.get("seed"), config_sha256=index.get("config_sha256", ""), config=config)
    tars: list[Path] = []
    for split in SPLITS:
        entry = index["splits"].get(split)
        if entry is None:
            continue
        tars += [folder / shard["tar"] for shard in entry["shards"]]
        stats.splits[split] = SplitStats(name=split, shards=len(entry["shards"]), samples=entry["samples"],
                                         identities=entry["identities"], input_records=entry["input_records"],
                                         bytes=entry["bytes"], dropped=dict(entry["dropped"]))
    stats.run_ledger = dict(index.get("run_ledger", {}).get("rows", {}))
    seen_ids: set[int] = set()
    for tar in _progress(tars, progress):
        for rec in iter_json_members(tar):
            _add_record(stats, rec, seen_ids, examples)
    return stats


def _progress(tars: list[Path], on: bool):
    if not on:
        return tars
    from tqdm import tqdm

    return tqdm(tars, desc="card: scanning shards", unit="shard")


def _add_record(stats: CardStats, rec: dict[str, Any], seen_ids: set[int], examples: int) -> None:
    attrs = rec.get("attributes") or {}
    for slot in SLOTS:
        stats.attributes[slot][attrs.get(slot)] += 1  # None counts the unknowns
    captions = rec.get("captions") or []
    stats.captions_per_image[len(captions)] += 1
    for cap in captions:
        stats.styles[cap.get("style", "default")] += 1
        stats.generators[cap.get("generator", "unknown")] += 1
        stats.caption_words.append(len(cap["text"].split()))
    prompt = rec.get("prompt_caption")
    if prompt is not None:
        stats.prompt_words.append(len(prompt["text"].split()))
    pid = rec["person_id"]
    stats.images_per_identity[pid] += 1
    if len(stats.examples) < examples and pid not in seen_ids:  # one example per identity, first ones found
        seen_ids.add(pid)
        stats.examples.append(rec)


def length_summary(values: list[int]) -> dict[str, float] | None:
    """``min``, ``p5``, ``median``, ``mean``, ``p95``, ``max`` of ``values`` (nearest-rank percentiles)."""
    if not values:
        return None
    ordered = sorted(values)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    return {"min": ordered[0], "p5": pct(0.05), "median": pct(0.5), "mean": sum(ordered) / len(ordered),
            "p95": pct(0.95), "max": ordered[-1]}
