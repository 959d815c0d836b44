"""``spac generate``: source records -> joins -> image check -> filters -> text -> WebDataset shards.

:func:`generate` is the library entry point (the CLI only builds a :class:`GenerateConfig` and calls it). The
run has two parallel phases, each resumable:

1. **units**: the source's identity stream is cut into work units (whole identities); each worker rebuilds the
   source from ``(name, options)``, runs the steps and stores the results under ``.work/`` with a done marker.
2. **shards**: with every identity's kept count and bytes known, :mod:`spac.generate_plan` picks the ``val``
   identities and rolls shards over by sample count and bytes; workers write the planned shards (tar, ledger,
   stats marker last). A rerun skips done units and shards, so killing a run loses only work in flight, and
   shard contents depend only on the inputs, the config and the seed.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spac.cards import ensure_card
from spac.config import to_dict
from spac.generate_plan import IdentitySummary, choose_val, plan_shards, plan_units
from spac.generate_work import (
    ShardTask,
    UnitTask,
    pool,
    process_unit,
    progress_bar,
    read_unit_summary,
    source_for,
    write_planned_shard,
)
from spac.shards.layout import INDEX, META, RUN_LEDGER, WORK, ShardError
from spac.shards.ledger import UNMATCHED, LedgerRow, drop_counts, write_ledger
from spac.shards.reader import read_index
from spac.shards.writer import config_digest, is_done, read_stats, write_index
from spac.steps.attribute_quality import AttributeQuality, AttributeQualityConfig
from spac.steps.base import Step
from spac.steps.gender_vote import GenderVote, GenderVoteConfig
from spac.steps.identity_balance import IdentityBalance, IdentityBalanceConfig
from spac.steps.image import ImageConfig, ReadImage
from spac.steps.join import Join, JoinConfig, load_annotations, load_captioner_outputs
from spac.steps.seed_filter import SeedFilter, SeedFilterConfig
from spac.steps.text import Text, TextConfig


class GenerateError(RuntimeError):
    """The run cannot produce a dataset (e.g. every record was dropped); the message says why."""


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    name: str = "demo"
    """Registered source name (``demo``, ``lupers``, ``folder``, ``lpw``, ``synth-pedes``, ...)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Keyword options of the source (``root``, ``identities``, ...); workers rebuild the source from them."""


@dataclass(frozen=True, kw_only=True)
class ShardConfig:
    max_samples: int = 1000
    """Roll over to a new tar before it would hold more samples than this (~20 MB of 256x128 crops; many
    shards per split let loaders spread them over ranks and workers)."""
    max_bytes: int = 512 * 2**20
    """Roll over before a tar would exceed this many bytes (an identity larger than the limits gets its own)."""
    records_per_unit: int = 1000
    """Input records per unit of work handed to a worker (whole identities)."""

    def __post_init__(self) -> None:
        if self.max_samples < 1 or self.max_bytes < 1 or self.records_per_unit < 1:
            raise ValueError(f"shards: limits must be positive, got {self}")


@dataclass(frozen=True, kw_only=True)
class GenerateConfig:
    """Everything that decides the bytes of a build (worker count and output folder are not part of it)."""

    source: SourceConfig = field(default_factory=SourceConfig)
    seed: int = 0
    """Seeds every random choice (val identities, identity capping, prompt templates)."""
    captions: str | None = None
    """Captioner outputs (JSONL file or folder of parts), joined by ``source_ref``."""
    attributes: str | None = None
    """Attribute annotations (JSONL ``{"source_ref", "attributes"}``), joined by ``source_ref``."""
    val_fraction: float = 0.0
    """Fraction of identities (with kept images) written to ``val-*.tar``; identity-disjoint from train."""
    shards: ShardConfig = field(default_factory=ShardConfig)
    join: JoinConfig = field(default_factory=JoinConfig)
    image: ImageConfig = field(default_factory=ImageConfig)
    attribute_quality: AttributeQualityConfig = field(default_factory=AttributeQualityConfig)
    gender_vote: GenderVoteConfig = field(default_factory=GenderVoteConfig)
    seed_filter: SeedFilterConfig = field(default_factory=SeedFilterConfig)
    identity_balance: IdentityBalanceConfig = field(default_factory=IdentityBalanceConfig)
    text: TextConfig = field(default_factory=TextConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")


def build_steps(cfg: GenerateConfig) -> list[Step]:
    """The ordered steps of a run; switched-off filters are left out."""
    steps: list[Step] = [Join(cfg.join), ReadImage(cfg.image)]
    if cfg.seed_filter.enabled:  # identity cleaning (§1.2) comes before the distribution strategy (§1.7)
        steps.append(SeedFilter(cfg.seed_filter))
    if cfg.attribute_quality.enabled:
        steps.append(AttributeQuality(cfg.attribute_quality))
    if cfg.gender_vote.enabled:
        steps.append(GenderVote(cfg.gender_vote))
    if cfg.identity_balance.enabled:
        steps.append(IdentityBalance(cfg.identity_balance))
    steps.append(Text(cfg.text))
    return steps


@dataclass
class GenerateSummary:
    out: Path
    input_records: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    run_ledger: dict[str, int] = field(default_factory=dict)
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    units_skipped: int = 0
    shards_skipped: int = 0
    seconds: float = 0.0


def generate(cfg: GenerateConfig, out: Path, *, workers: int = 1, progress: bool = True) -> GenerateSummary:
    """Build (or finish building) the shard folder ``out`` from ``cfg``; see the module docstring."""
    start = time.perf_counter()
    out = Path(out)
    config_dict = to_dict(cfg)
    digest = config_digest(config_dict)
    if (out / INDEX).is_file():
        index = read_index(out)
        if index.get("config_sha256") != digest:
            raise ShardError(f"{out} already holds a finished build made with another config; use a new --out")
        ensure_card(out)  # a run stopped between index.json and the card
        return _summary(out, index, time.perf_counter() - start, skipped=True)
    _claim(out, digest)

    from spac.sources.base import SOURCES

    source = source_for(cfg, None)
    module = SOURCES[cfg.source.name].__module__ if cfg.source.name in SOURCES else None
    captions, annotations, run_rows = _load_joins(cfg)

    refs: set[str] = set()
    summaries: list[IdentitySummary] = []
    summary = GenerateSummary(out=out)

    def unit_tasks():
        for unit, identities in plan_units(source.identities(), cfg.shards.records_per_unit):
            unit_refs = [r.source_ref for _, recs in identities for r in recs]
            if captions is not None or annotations is not None:
                refs.update(unit_refs)
            done = read_unit_summary(out, unit)
            if done is not None:
                summaries.extend(done)
                summary.units_skipped += 1
                bar.update(sum(s.records for s in done))
                continue
            yield UnitTask(out=out, unit=unit, config=cfg, source_module=module, identities=identities,
                           captions=None if captions is None else {r: captions[r] for r in unit_refs if r in captions},
                           annotations=None if annotations is None
                           else {r: annotations[r] for r in unit_refs if r in annotations})

    with pool(workers) as workers_pool:
        with progress_bar(progress, "records", "rec") as bar:
            for _, done in workers_pool.run(process_unit, unit_tasks()):
                summaries.extend(done)
                bar.update(sum(s.records for s in done))
        summaries.sort(key=lambda s: s.ordinal)
        run_rows += _unknown_refs(captions, annotations, refs)
        summary.input_records = sum(s.records for s in summaries)
        if not any(s.kept for s in summaries):
            reasons = _unit_drop_reasons(out, summaries)
            raise GenerateError(f"all {summary.input_records} input records were dropped ({reasons}); "
                                f"check the source and the filters")
        plans = plan_shards(summaries, val=choose_val(summaries, cfg.val_fraction, cfg.seed),
                            max_samples=cfg.shards.max_samples, max_bytes=cfg.shards.max_bytes)
        todo = []
        for plan in plans:
            if is_done(out, plan.split, plan.shard):
                if read_stats(out, plan.split, plan.shard).get("config_sha256") != digest:
                    raise ShardError(f"{out}: shard {plan.split}-{plan.shard:06d} was built with another config")
                summary.shards_skipped += 1
            else:
                todo.append(ShardTask(out=out, plan=plan, config_dict=config_dict))
        total, done_samples = sum(p.samples for p in plans), sum(t.plan.samples for t in todo)
        with progress_bar(progress, "shards", "sample", total=total, initial=total - done_samples) as bar:
            for stats in workers_pool.run(write_planned_shard, todo):
                bar.update(stats["samples"])

    write_ledger(out / META / RUN_LEDGER, run_rows)
    counts = Counter(p.split for p in plans)
    index = write_index(out, counts, config=config_dict,
                        extra={"run_ledger": {"file": f"{META}/{RUN_LEDGER}", "rows": drop_counts(run_rows)}})
    shutil.rmtree(out / WORK, ignore_errors=True)
    ensure_card(out)  # README.md (HF card whose configs point at the tars) + stats.png
    result = _summary(out, index, time.perf_counter() - start)
    result.units_skipped, result.shards_skipped = summary.units_skipped, summary.shards_skipped
    return result


def _claim(out: Path, digest: str) -> None:
    """Record the config digest of the run in ``.work/``; refuse to mix two configs in one folder."""
    marker = out / WORK / "config.sha256"
    if marker.is_file() and marker.read_text().strip() != digest:
        raise ShardError(f"{out} holds an unfinished build with another config; rerun that command or use a new --out")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(digest + "\n")


def _load_joins(cfg: GenerateConfig):
    rows: list[LedgerRow] = []
    captions = annotations = None
    if cfg.captions:
        captions, bad = load_captioner_outputs(Path(cfg.captions))
        rows += bad
    if cfg.attributes:
        annotations, bad = load_annotations(Path(cfg.attributes))
        rows += bad
    return captions, annotations, rows


def _unknown_refs(captions, annotations, refs: set[str]) -> list[LedgerRow]:
    """Run-ledger rows for join lines whose ``source_ref`` matches no record of the source."""
    rows = []
    for table, what in ((captions, "captioner"), (annotations, "annotations")):
        for ref, entry in (table or {}).items():
            if ref not in refs:
                where = entry.where if hasattr(entry, "where") else entry[0]
                rows.append(LedgerRow(source=None, source_ref=ref, person_id=None, key=None, status=UNMATCHED,
                                      reason="unknown_source_ref", detail=f"{what} line {where}"))
    return rows


def _unit_drop_reasons(out: Path, summaries: list[IdentitySummary]) -> str:
    import pickle

    from spac.generate_work import unit_paths

    reasons: Counter[str] = Counter()
    for unit in sorted({s.unit for s in summaries}):
        with open(unit_paths(out, unit)[0], "rb") as fh:
            for _, items in pickle.load(fh):
                reasons.update(i.reason for i in items if i.reason)
    return ", ".join(f"{r}: {n}" for r, n in reasons.most_common())


def _summary(out: Path, index: dict, seconds: float, skipped: bool = False) -> GenerateSummary:
    s = GenerateSummary(out=out, seconds=seconds)
    dropped: Counter[str] = Counter()
    for split, entry in index["splits"].items():
        s.splits[split] = {"shards": len(entry["shards"]), "samples": entry["samples"], "bytes": entry["bytes"],
                           "identities": entry["identities"]}
        s.input_records += entry["input_records"]
        s.kept += entry["samples"]
        dropped.update(entry["dropped"])
        if skipped:
            s.shards_skipped += len(entry["shards"])
    s.dropped = dict(sorted(dropped.items()))
    s.run_ledger = dict(index.get("run_ledger", {}).get("rows", {}))
    return s
