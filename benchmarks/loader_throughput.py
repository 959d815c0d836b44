"""Loader throughput vs its physical limit: samples/s of ``plip.data.TrainLoader`` (decode + resize + flip +
caption draw + tokenise + P x K batching, with W workers) next to the raw decode+resize rate of the same JPEGs
in one process, times W. Prints the ratio; target >= 0.8 (INFRA.md §7: ~0.9k/s per core at 256x128 uint8).

Fair by construction: the limit decodes the same JPEGs (from the same shards, held in memory: no tar, no JSON)
to the same size with the loader's own per-image function (``plip.data.load_image``: decode, resize, uint8
CHW), one thread per process as in a DataLoader worker, over as many images as a timed loader run. It runs in W
processes at once (forked like the workers), so that both numbers see the same share of a shared machine; the
rate of one process alone is printed next to it. Every rate is the best of ``--repeats`` alternating runs, and
the load average is printed. The plain ``plip.transforms`` chain rate is printed for reference.

    python benchmarks/loader_throughput.py                      # synthetic 256x128 shards in a temp folder
    python benchmarks/loader_throughput.py --shards demo_out/shards --workers 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from plip import transforms
from plip.data import DataConfig, TrainLoader, load_image, read_raw, read_split
from plip.synthetic import write_synthetic_shards
from plip.tokenizer import train_wordpiece


def raw_rate(samples: list[dict], size: tuple[int, int], count: int, chain: bool = False) -> float:
    """Decode + resize + to uint8 ``[3, H, W]`` of ``count`` images (cycling through ``samples``, already in memory),
    one process and thread: the same window length as a timed loader run.

    ``chain``: through ``plip.transforms`` (load_rgb -> resize -> to_uint8_tensor) instead of ``load_image``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a DataLoader worker (two spinning threads per process thrash a shared CPU)
    out = np.empty((3, *size), dtype=np.uint8)  # what the loader's collate hands load_image: a numpy view
    t = time.perf_counter()
    for i in range(count):
        sample = samples[i % len(samples)]
        if chain:
            data = sample.get("jpg", sample.get("png"))
            transforms.to_uint8_tensor(transforms.resize(transforms.load_rgb(data), size, "bicubic"))
        else:
            load_image(sample, size, "bicubic", False, out=out)
    rate = count / (time.perf_counter() - t)
    torch.set_num_threads(threads)
    return rate


def concurrent_raw_rate(samples: list[dict], size: tuple[int, int], count: int, processes: int) -> float:
    """Sum of the rates of ``processes`` forked processes running :func:`raw_rate` at the same time."""
    if processes == 1:
        return raw_rate(samples, size, count)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return sum(pool.starmap(raw_rate, [(samples, size, count)] * processes))


def loader_rate(loader: TrainLoader, epoch: int) -> tuple[float, int]:
    it = loader.epoch(epoch)
    for _ in range(5):  # worker start-up and buffer fill are not steady state
        next(it)
    t = time.perf_counter()
    n = sum(len(b) for b in it)
    return n / (time.perf_counter() - t), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=Path, help="shard folder (default: synthetic shards in a temp folder)")
    ap.add_argument("--workers", type=int, default=2, help="loader workers (the limit is workers x one process)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--size", type=int, nargs=2, default=(256, 128), metavar=("H", "W"), help="training size")
    ap.add_argument(
        "--source-size",
        type=int,
        nargs=2,
        default=(384, 192),
        metavar=("H", "W"),
        help="size of the synthetic JPEGs (INFRA.md §7.2 anchor: 384x192 -> 256x128)",
    )
    ap.add_argument("--batches", type=int, default=40, help="batches to time after one warm-up epoch start")
    ap.add_argument("--repeats", type=int, default=3, help="alternating runs of both rates; the best of each counts")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    root = args.shards or write_synthetic_shards(
        Path(tmp.name) / "shards", identities=300, images_per_identity=8, shards=8, size=tuple(args.source_size)
    )
    paths = [s.path for s in read_split(root, "train")]
    records = [s["json"] for s in read_raw(paths[0])]
    texts = [c["text"] for r in records for c in r["captions"]]
    texts += [r["prompt_caption"]["text"] for r in records if r.get("prompt_caption")]  # demo: prompts only
    tok = train_wordpiece(texts, Path(tmp.name) / "tok", vocab_size=500)
    size = tuple(args.size)
    samples = [{k: v for k, v in s.items() if k != "json"} for p in paths for s in read_raw(p)][:1000]
    cfg = DataConfig(
        shards=str(root),
        batch_size=args.batch_size,
        num_workers=args.workers,
        image_size=size,
        identity_buffer=64,
        tokenizer=None,
        steps_per_epoch=args.batches + 5,
    )
    loader = TrainLoader(cfg, tok)
    count = args.batches * args.batch_size
    workers = max(1, args.workers)
    singles, limits, chains, rates, n = [], [], [], [], 0
    for r in range(max(1, args.repeats)):
        limits.append(concurrent_raw_rate(samples, size, count, workers))
        singles.append(raw_rate(samples, size, count))
        chains.append(raw_rate(samples, size, count // 2, chain=True))
        rate, n = loader_rate(loader, r)
        rates.append(rate)
    limits.append(concurrent_raw_rate(samples, size, count, workers))
    singles.append(raw_rate(samples, size, count))
    rate, single, together = max(rates), max(singles), max(limits)
    limit = single * workers  # the limit: one process's rate x the workers

    def runs(xs: list[float]) -> str:
        return ", ".join(f"{x:.0f}" for x in xs)

    loads = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min)       : {loads}  ({os.cpu_count()} CPUs)")
    print(f"plip.transforms chain, 1 process: {max(chains):8.1f} samples/s  (reference)")
    print(f"raw decode+resize, 1 process    : {single:8.1f} samples/s  (runs: {runs(singles)})")
    print(f"limit = x {workers} workers           : {limit:8.1f} samples/s")
    print(f"raw, {workers} processes at once      : {together:8.1f} samples/s  (runs: {runs(limits)})")
    print(
        f"TrainLoader ({args.workers} workers)        : {rate:8.1f} samples/s  ({n} samples a run; runs: {runs(rates)})"
    )
    print(
        f"ratio vs {workers} processes at once  : {rate / together:8.2f}  (cross-check: same share of a busy machine)"
    )
    print(
        f"ratio                           : {rate / limit:8.2f}  (target >= 0.80) "
        f"{'OK' if rate / limit >= 0.8 else 'BELOW TARGET'}"
    )


if __name__ == "__main__":
    main()
