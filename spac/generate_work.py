"""The two kinds of work ``spac generate`` hands to worker processes: process a unit, write a planned shard.

Both are plain functions of a picklable task so they run the same in the main process (``--workers 1``) and in
spawned workers. A worker rebuilds the source from ``(name, options)`` once per process. Unit results go to
``<out>/.work/unit-XXXXXX.pkl`` (records with image bytes, drops with reasons) and a small JSON summary written
last, which marks the unit done.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pickle
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from spac.generate_plan import IdentitySummary, ShardPlan
from spac.records import PersonRecord, to_sample
from spac.shards.layout import WORK, make_key, sample_bytes
from spac.shards.tar import write_bytes_atomically
from spac.shards.writer import ShardItem, write_shard
from spac.steps.base import StepContext, run_steps

_SOURCES: dict[str, Any] = {}


@dataclass(frozen=True, kw_only=True)
class UnitTask:
    out: Path
    unit: int
    config: Any  # GenerateConfig
    source_module: str | None  # module that registers the source (imported first in a fresh process)
    identities: list[tuple[int, list[PersonRecord]]]
    captions: Mapping[str, Any] | None
    annotations: Mapping[str, Any] | None


@dataclass(frozen=True, kw_only=True)
class ShardTask:
    out: Path
    plan: ShardPlan
    config_dict: Mapping[str, Any]


def unit_paths(out: Path, unit: int) -> tuple[Path, Path]:
    base = Path(out) / WORK / f"unit-{unit:06d}"
    return base.with_suffix(".pkl"), base.with_suffix(".json")


def source_for(config: Any, module: str | None):
    """The source of ``config``, built once per process from its name and options."""
    from spac.sources import build_source

    spec = json.dumps([config.source.name, dict(config.source.options)], sort_keys=True, default=str)
    if spec not in _SOURCES:
        if module:
            importlib.import_module(module)
        _SOURCES[spec] = build_source(config.source.name, **dict(config.source.options))
    return _SOURCES[spec]


def read_unit_summary(out: Path, unit: int) -> list[IdentitySummary] | None:
    """The unit's identity summaries, or None when the unit is not done."""
    _, marker = unit_paths(out, unit)
    if not marker.is_file():
        return None
    return [IdentitySummary(**s) for s in json.loads(marker.read_text())["identities"]]


def process_unit(task: UnitTask) -> tuple[int, list[IdentitySummary]]:
    """Run the steps over every identity of the unit and store the results; returns the identity summaries."""
    from spac.generate import build_steps

    cfg = task.config
    ctx = StepContext(source=source_for(cfg, task.source_module), seed=cfg.seed, captions=task.captions,
                      annotations=task.annotations)
    steps = build_steps(cfg)
    results, summaries = [], []
    size_key = make_key("val", 0, 0)  # the longest key form, so byte estimates are upper bounds
    for ordinal, records in task.identities:
        try:
            items = run_steps(steps, records, ctx)
        except Exception as err:  # a bug or an unusable source: name the identity, the run can be resumed
            raise RuntimeError(f"unit {task.unit}: identity {records[0].person_id} ({records[0].source_ref}, ...) "
                               f"failed: {type(err).__name__}: {err}") from err
        kept = [i.record for i in items if i.reason is None]
        payload = sum(sample_bytes(to_sample(dataclasses.replace(r, key=size_key))) for r in kept)
        results.append((ordinal, items))
        summaries.append(IdentitySummary(ordinal=ordinal, unit=task.unit, person_id=records[0].person_id,
                                         records=len(items), kept=len(kept), payload=payload))
    pkl, marker = unit_paths(task.out, task.unit)
    pkl.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(pkl, pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
    body = {"unit": task.unit, "identities": [dataclasses.asdict(s) for s in summaries]}
    write_bytes_atomically(marker, json.dumps(body).encode())  # last: the unit's done marker
    return task.unit, summaries


def write_planned_shard(task: ShardTask) -> dict[str, Any]:
    """Gather the planned identities' items from their units (source order) and write the shard."""
    plan = task.plan
    wanted = set(plan.ordinals)
    by_ordinal: dict[int, list[ShardItem]] = {}
    for unit in plan.units:
        pkl, _ = unit_paths(task.out, unit)
        with open(pkl, "rb") as fh:
            for ordinal, items in pickle.load(fh):  # our own intermediate file, written by process_unit
                if ordinal in wanted:
                    by_ordinal[ordinal] = items
    items = [item for ordinal in plan.ordinals for item in by_ordinal[ordinal]]
    return write_shard(task.out, plan.split, plan.shard, items, config=task.config_dict)


class _InProcess:
    """The ``--workers 1`` executor: same interface as :class:`_Pool`, no processes."""

    def run(self, fn, tasks: Iterable):
        for task in tasks:
            yield fn(task)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# Imported once by the fork server and inherited by every worker it forks: the text modules alone take seconds
# to import (spaCy), which would otherwise be paid per worker process.
PRELOAD = ["spac.generate", "spac.sources", "spac.text.extract", "spac.text.render", "PIL.Image", "pyarrow.parquet"]


def _context():
    """``forkserver`` where available (clean single-threaded parent, shared imports), else ``spawn``."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)  # no effect once this process's fork server runs; missing ones skipped
        return ctx
    return get_context("spawn")


class _Pool:
    """Worker processes with a bounded number of tasks in flight (tasks are generated lazily).

    Workers never inherit the parent's state (no plain ``fork``): each rebuilds its source from the task's
    ``(name, options)``, so open handles such as LMDB environments are never shared across processes.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=_context())

    def run(self, fn, tasks: Iterable):
        pending = set()
        for task in tasks:
            pending.add(self.executor.submit(fn, task))
            if len(pending) >= 2 * self.workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.executor.shutdown(wait=True, cancel_futures=True)
        return False


def pool(workers: int):
    """In-process for ``workers <= 1`` (no process start-up), else worker processes."""
    return _InProcess() if workers <= 1 else _Pool(workers)


def progress_bar(enabled: bool, desc: str, unit: str, total: int | None = None, initial: int = 0):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True,
                smoothing=0.1)
