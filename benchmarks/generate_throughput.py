"""Throughput of ``spac generate`` on demo data next to the raw tar-write rate of the same samples (the limit).

    .venv/bin/python benchmarks/generate_throughput.py [--identities 100] [--workers 1 2]

Prints, per worker count, input records/s per worker for the whole ``generate`` run (plan, source reads, image
decode check, filters, text, unit staging, shard writing, ledgers, index) and the ratio to the rate at which the
same finished samples can merely be written to a tar (``spac.shards.tar.write_tar``, page cache). It also
prints the source-read rate alone (the demo source draws its images procedurally), which shows how much of the
gap is the source rather than the pipeline. One-time start-up (imports, worker fork server) is paid in a warm-up
run first; the dataset card with its ``stats.png`` (about a second of matplotlib, once per build) is timed
apart and a rate without it printed too, since it does not grow with the data. Numbers on a shared 2-core VM
move by +-30 %.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import spac.sources  # noqa: F401 -- registers demo
from spac.cards import render_card
from spac.generate import GenerateConfig, ShardConfig, SourceConfig, generate
from spac.shards import iter_samples, list_shards
from spac.shards.tar import write_tar
from spac.sources import build_source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--identities", type=int, default=100)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    cfg = GenerateConfig(source=SourceConfig(name="demo", options={"identities": args.identities}),
                         shards=ShardConfig(max_samples=200, records_per_unit=60))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rates, card_rates = {}, {}
        for workers in args.workers:
            # warm-up: one-time imports (spaCy in the text step, pandas via pyarrow) and the worker fork server
            warm = dataclasses.replace(cfg, source=SourceConfig(name="demo", options={"identities": 2 * workers}))
            generate(warm, tmp / f"warm{workers}", workers=workers, progress=False)
            out = tmp / f"w{workers}"
            t = time.perf_counter()
            summary = generate(cfg, out, workers=workers, progress=False)
            seconds = time.perf_counter() - t
            rates[workers] = summary.input_records / seconds
            t = time.perf_counter()
            render_card(out)  # what generate spent on the card at its end, re-rendered alone
            card_rates[workers] = summary.input_records / (seconds - (time.perf_counter() - t))
        samples = [s for tar in list_shards(out, "train") for s in iter_samples(tar)]
        for s in samples:
            s.pop("__url__", None)
        t = time.perf_counter()
        for _ in range(3):
            write_tar(tmp / "raw.tar", samples)
        raw = 3 * len(samples) / (time.perf_counter() - t)

        source = build_source("demo", **cfg.source.options)
        records = [r for ident in source.identities() for r in ident][:200]
        t = time.perf_counter()
        for r in records:
            source.read_image(r)
        read = len(records) / (time.perf_counter() - t)
    mib = sum(len(v) for s in samples for k, v in s.items() if k != "__key__") / len(samples) / 2**20
    print(f"demo: {summary.input_records} records, {len(samples)} kept samples in train, {mib * 1024:.1f} KiB/sample")
    print(f"raw tar-write rate (limit): {raw:,.0f} samples/s ({raw * mib:,.0f} MiB/s)")
    print(f"demo source read_image alone: {read:,.0f} records/s")
    for workers, rate in rates.items():
        per_worker = rate / workers
        print(f"spac generate --workers {workers}: {rate:,.0f} records/s total, {per_worker:,.0f} records/s per worker"
              f" = {per_worker / raw:.3f} x raw tar-write rate; {per_worker / read:.2f} x source read rate")
        per_worker = card_rates[workers] / workers
        print(f"  without the one-time card: {per_worker:,.0f} records/s per worker = {per_worker / raw:.3f} x raw "
              f"tar-write rate; {per_worker / read:.2f} x source read rate")


if __name__ == "__main__":
    main()
