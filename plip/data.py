"""The training loader: spac (WebDataset) shards -> per-rank stream -> P x K (or random) batches -> typed ``Batch``.

Each process builds its own pipeline for its rank (never passed through ``accelerator.prepare``, which would
re-shard or dispatch from rank 0, INFRA.md §5). Per epoch, shards are shuffled by (seed, epoch), split by node
and by worker (``plip.sampling.assign_shards``, the ``wds.split_by_node``/``split_by_worker`` scheme with
the rank passed explicitly); each worker streams its shards endlessly (reshuffled per pass),
forms batches of raw samples inside the worker, then decodes, resizes, flips and tokenises them. Every rank
yields exactly ``steps_per_epoch`` batches (from the ``index.json`` sample counts and the global batch size), so
ranks stay in step by construction. Batch ``b`` of an epoch always comes from worker ``b % num_workers`` and its
augmentation from a generator seeded by (seed, epoch, rank, b): resuming at batch ``b`` replays the raw stream
(tar parsing only) and gives exactly the batches an uninterrupted run would have seen.

Reading tars lives in ``plip.shard_reader``, decoding one sample in ``plip.sample_decode``; both are re-exported
here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from plip.batch import Batch
from plip.sample_decode import caption_options, load_image
from plip.sampling import RawSample, assign_shards, identity_batches, random_batches, seeded
from plip.shard_reader import Shard, endless_samples, read_raw, read_split, tar_files
from plip.tokenizer import encode_with_spans

__all__ = [  # the reading and decoding helpers live in their own modules; plip.data is the loader's one door
    "SAMPLERS", "Batch", "DataConfig", "EpochStream", "Shard", "TrainLoader", "caption_options", "collate",
    "endless_samples", "load_image", "read_raw", "read_split", "tar_files",
]

SAMPLERS = ("identity", "random")


@dataclass(frozen=True, kw_only=True, slots=True)
class DataConfig:
    """Where the shards are and how batches are formed.

    Attributes:
        shards: folder written by ``spac generate`` (``index.json`` + ``{split}-NNNNNN.tar``).
        train_split / val_split: split names in that folder ("" for no validation).
        batch_size: GLOBAL batch (all processes together); each process takes ``batch_size / world_size``.
        sampler: "identity" (P identities x K images per process batch) or "random".
        images_per_identity: K of the identity sampler.
        identity_buffer: identities held in each worker's buffer that batches draw from.
        sample_buffer: samples held in each worker's shuffle buffer (random sampler).
        num_workers: DataLoader worker processes per rank (0 = read in the training process).
        image_size: (H, W) images are resized to; ``resample``: PIL filter; ``flip``: horizontal flip probability.
        max_length: token length of captions.
        prompt_weight: sampling weight of the prompt caption relative to one styled caption (1 = uniform).
        steps_per_epoch: override of the count derived from ``index.json`` (None = derived).
        tokenizer: folder or Hub id of the tokenizer; None trains a WordPiece vocabulary of
            ``tokenizer_vocab_size`` on the training captions (demo and tests, no download).
        seed: seed of shard order, batching and augmentation.
    """

    shards: str = ""
    train_split: str = "train"
    val_split: str = "val"
    batch_size: int = 512
    sampler: str = "identity"
    images_per_identity: int = 4
    identity_buffer: int = 256
    sample_buffer: int = 2000
    num_workers: int = 4
    image_size: tuple[int, int] = (256, 128)
    resample: str = "bicubic"
    flip: float = 0.5
    max_length: int = 64
    prompt_weight: float = 1.0
    steps_per_epoch: int | None = None
    tokenizer: str | None = "bert-base-uncased"
    tokenizer_vocab_size: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"data.sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        if self.batch_size < 1 or self.images_per_identity < 1 or self.num_workers < 0:
            raise ValueError("data.batch_size and data.images_per_identity must be >= 1, data.num_workers >= 0")
        if not 0.0 <= self.flip <= 1.0 or self.prompt_weight < 0:
            raise ValueError("data.flip must lie in [0, 1] and data.prompt_weight be >= 0")


def collate(samples: Sequence[RawSample], cfg: DataConfig, tokenizer: Any, rng: Any) -> Batch:
    """Raw samples -> :class:`Batch`: one caption per image drawn with ``rng``, images flipped with ``rng``."""
    h, w = cfg.image_size
    images = _batch_tensor((len(samples), 3, h, w))
    pixels = images.numpy()  # one view for the batch (a tensor's .numpy() per image costs a tenth of a decode)
    texts, pids, rows, spans = [], [], [], []
    for i, sample in enumerate(samples):
        pid, options = caption_options(sample, cfg.prompt_weight)
        text, text_spans, _ = rng.choices(options, weights=[o[2] for o in options])[0]
        texts.append(text)
        pids.append(pid)
        rows += [i] * len(text_spans)
        spans += text_spans
        load_image(sample, cfg.image_size, cfg.resample, rng.random() < cfg.flip, out=pixels[i])
    flat = np.fromiter(chain.from_iterable(spans), dtype=np.int64, count=3 * len(spans)).reshape(-1, 3)
    tokens = encode_with_spans(tokenizer, texts, (rows, flat[:, 0], flat[:, 1], flat[:, 2]), max_length=cfg.max_length)
    return Batch(images=images, person_ids=torch.tensor(pids, dtype=torch.long), **tokens)


def _batch_tensor(shape: tuple[int, ...]) -> torch.Tensor:
    """uint8 ``shape``; in a DataLoader worker allocated in shared memory, as ``default_collate`` does, so sending
    the batch to the training process does not copy it once more."""
    if get_worker_info() is None:
        return torch.empty(shape, dtype=torch.uint8)
    storage = torch.empty(0, dtype=torch.uint8)._typed_storage()._new_shared(math.prod(shape))
    return torch.empty(0, dtype=torch.uint8).new(storage).view(shape)


class EpochStream(IterableDataset):
    """One rank's batches ``start .. steps-1`` of one epoch, as ``(b, Batch)``; worker ``w`` makes ``b % W == w``."""

    def __init__(self, loader: TrainLoader, epoch: int, start: int) -> None:
        self.loader, self.epoch, self.start = loader, epoch, start

    def __iter__(self) -> Iterator[tuple[int, Batch]]:
        ld, cfg = self.loader, self.loader.cfg
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        parts = (cfg.seed, self.epoch, ld.rank, worker)
        paths = ld.worker_shards(self.epoch, worker)
        rng = seeded("batches", *parts)
        if cfg.sampler == "identity":
            P = ld.local_batch_size // cfg.images_per_identity
            raw = identity_batches(
                endless_samples(paths, *parts),
                identities=P,
                images_per_identity=cfg.images_per_identity,
                buffer=cfg.identity_buffer,
                rng=rng,
            )
        else:
            raw = random_batches(
                endless_samples(paths, *parts), batch_size=ld.local_batch_size, buffer=cfg.sample_buffer, rng=rng
            )
        for b in range(worker, ld.steps_per_epoch, num_workers):
            samples = next(raw)
            if b >= self.start:  # earlier batches are replayed raw (no decode) to reach the resume point
                yield b, collate(samples, cfg, ld.tokenizer, seeded("augment", cfg.seed, self.epoch, ld.rank, b))


class TrainLoader:
    """The per-rank training stream.

    Args:
        cfg: data settings; ``rank``/``world_size``: this process and how many there are.
        tokenizer: the text tokenizer (copied into the workers).
        pin_memory: pin batches in page-locked memory (CUDA training: faster, asynchronous copies).
    """

    def __init__(
        self, cfg: DataConfig, tokenizer: Any, rank: int = 0, world_size: int = 1, pin_memory: bool = False
    ) -> None:
        self.cfg, self.tokenizer, self.rank, self.world_size = cfg, tokenizer, rank, world_size
        self.pin_memory = pin_memory
        self.shards = read_split(cfg.shards, cfg.train_split)
        self.num_samples = sum(s.samples for s in self.shards)
        if cfg.batch_size % world_size:
            raise ValueError(f"data.batch_size {cfg.batch_size} is not divisible by {world_size} processes")
        self.local_batch_size = cfg.batch_size // world_size
        if cfg.sampler == "identity" and self.local_batch_size % cfg.images_per_identity:
            raise ValueError(
                f"per-process batch {self.local_batch_size} is not a multiple of "
                f"data.images_per_identity={cfg.images_per_identity}"
            )
        if self.num_samples == 0:
            raise ValueError(f"{cfg.shards}: split {cfg.train_split!r} holds no samples")
        # Depends on the global batch only, never on the number of processes (the lr schedule reads it).
        self.steps_per_epoch = cfg.steps_per_epoch or math.ceil(self.num_samples / cfg.batch_size)
        self.worker_shards(0, 0)  # fail now, in the main process, when readers outnumber shards

    @property
    def num_workers(self) -> int:
        return self.cfg.num_workers

    def worker_shards(self, epoch: int, worker: int) -> list[str]:
        names = [str(s.path) for s in self.shards]
        return assign_shards(
            names,
            seed=self.cfg.seed,
            epoch=epoch,
            rank=self.rank,
            world_size=self.world_size,
            worker=worker,
            num_workers=max(1, self.num_workers),
        )

    def rank_shards(self, epoch: int) -> list[str]:
        """Every shard this rank reads in ``epoch`` (all its workers)."""
        return [p for w in range(max(1, self.num_workers)) for p in self.worker_shards(epoch, w)]

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """Batches ``start .. steps_per_epoch - 1`` of ``epoch``, in order."""
        if not 0 <= start <= self.steps_per_epoch:
            raise ValueError(f"start batch {start} outside 0..{self.steps_per_epoch}")
        stream = EpochStream(self, epoch, start)
        # Our own generator: starting workers draws a base seed, which must not consume the global torch RNG
        # (IAP masks, dropout), or a resumed run would diverge from an uninterrupted one.
        generator = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)
        loader = DataLoader(
            stream,
            batch_size=None,
            num_workers=self.num_workers,
            generator=generator,
            pin_memory=self.pin_memory,
            persistent_workers=False,
            prefetch_factor=2 if self.num_workers else None,
        )
        pending: dict[int, Batch] = {}
        expected = start
        for b, batch in loader:  # the DataLoader interleaves workers; put batches back in index order
            pending[b] = batch
            while expected in pending:
                yield pending.pop(expected)
                expected += 1
        if expected != self.steps_per_epoch:
            raise RuntimeError(f"rank {self.rank}: epoch {epoch} ended after {expected} of {self.steps_per_epoch}")
