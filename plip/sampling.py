"""Which shards each reader gets, and how raw samples become batches: P identities x K images, or random.

Pure Python over raw samples (bytes + parsed JSON), so a skipped batch (mid-epoch resume) costs tar parsing
only, never JPEG decoding. Every random choice comes from a ``random.Random`` seeded by a string built from
(seed, epoch, rank, worker, ...), so a stream is a pure function of those numbers (INFRA.md §8 lesson 5).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

RawSample = dict[str, Any]  # webdataset sample: __key__, __url__, jpg/png bytes, json (parsed dict), txt


def seeded(*parts: object) -> random.Random:
    """A generator seeded from ``parts``; str seeds hash with SHA-512, independent of PYTHONHASHSEED."""
    return random.Random("-".join(str(p) for p in parts))


def assign_shards(
    shards: Sequence[str], *, seed: int, epoch: int, rank: int, world_size: int, worker: int, num_workers: int
) -> list[str]:
    """The shards one reader (rank, worker) streams in ``epoch``.

    The full list is shuffled by (seed, epoch) identically on every rank, then split by node (``rank::world``)
    and by worker (``worker::num_workers``), like ``wds.split_by_node``/``split_by_worker`` but with the rank
    given explicitly: the readers' shard sets are disjoint and together cover every shard.

    Raises:
        ValueError: when there are fewer shards than readers (a reader without data would hang the others).
    """
    readers = world_size * num_workers
    if len(shards) < readers:
        raise ValueError(
            f"{len(shards)} shard(s) for {world_size} process(es) x {num_workers} loader worker(s) = {readers} "
            "readers; every reader needs at least one shard. Lower data.num_workers or write more, smaller shards."
        )
    order = list(shards)
    seeded("shards", seed, epoch).shuffle(order)
    return order[rank::world_size][worker::num_workers]


def group_identities(samples: Iterable[RawSample]) -> Iterator[list[RawSample]]:
    """Runs of consecutive samples with the same ``person_id`` (shards keep each identity contiguous)."""
    run: list[RawSample] = []
    for sample in samples:
        if run and sample["json"]["person_id"] != run[0]["json"]["person_id"]:
            yield run
            run = []
        run.append(sample)
    if run:
        yield run


def identity_batches(
    samples: Iterable[RawSample], *, identities: int, images_per_identity: int, buffer: int, rng: random.Random
) -> Iterator[list[RawSample]]:
    """Endless batches of ``identities`` (P) distinct identities x ``images_per_identity`` (K) images.

    Identities enter a buffer of at least ``buffer`` entries; a batch draws P of them at random (distinct person
    ids when the buffer holds enough) and takes K of each one's remaining images (with replacement when it has
    fewer than K). A drawn identity stays in the buffer while it has at least ceil(K/2) images left, so large
    identities contribute several times per pass. ``samples`` must be endless (see ``plip.data``).
    """
    P, K = identities, images_per_identity
    stream = group_identities(samples)
    pool: list[list[RawSample]] = []
    keep = max(1, (K + 1) // 2)
    while True:
        while len(pool) < max(buffer, P):
            pool.append(next(stream))
        order = list(range(len(pool)))
        rng.shuffle(order)
        picked, pids = [], set()
        for i in order:
            pid = pool[i][0]["json"]["person_id"]
            if pid not in pids:
                picked.append(i)
                pids.add(pid)
            if len(picked) == P:
                break
        picked += [i for i in order if i not in picked][: P - len(picked)]  # tiny data: repeat an identity
        batch: list[RawSample] = []
        for i in picked:
            images = pool[i]
            rng.shuffle(images)
            taken, pool[i] = images[:K], images[K:]
            batch += taken + [rng.choice(taken) for _ in range(K - len(taken))]
        spent = {i for i in picked if len(pool[i]) < keep}
        pool = [images for i, images in enumerate(pool) if i not in spent]
        yield batch


def random_batches(
    samples: Iterable[RawSample], *, batch_size: int, buffer: int, rng: random.Random
) -> Iterator[list[RawSample]]:
    """Endless batches of ``batch_size`` samples drawn from a shuffle buffer of ``buffer`` samples."""
    it = iter(samples)
    pool: list[RawSample] = []
    while True:
        while len(pool) < max(buffer, batch_size):
            pool.append(next(it))
        batch = []
        for _ in range(batch_size):
            j = rng.randrange(len(pool))
            pool[j], pool[-1] = pool[-1], pool[j]
            batch.append(pool.pop())
        yield batch
