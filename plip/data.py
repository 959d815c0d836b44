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
"""

from __future__ import annotations

import io
import json
import math
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from plip import transforms
from plip.batch import Batch
from plip.sampling import RawSample, assign_shards, identity_batches, random_batches, seeded
from plip.tokenizer import encode_with_spans
from spac.records import SCHEMA, SLOTS, RecordError, from_sample

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


@dataclass(frozen=True)
class Shard:
    path: Path
    samples: int


def read_split(root: str | Path, split: str) -> list[Shard]:
    """The shards of ``split`` with their sample counts, from ``index.json`` (the folder's done marker).

    Raises:
        FileNotFoundError / ValueError: naming the folder, when it is not a finished build or has no such split.
    """
    root = Path(root)
    index_path = root / "index.json"
    if not index_path.is_file():
        raise FileNotFoundError(f"{index_path} not found: {root} is not a finished shard folder (run spac generate)")
    index = json.loads(index_path.read_text())
    entry = index.get("splits", {}).get(split)
    if not entry or not entry.get("shards"):
        raise ValueError(f"{index_path}: no shards for split {split!r} (splits: {sorted(index.get('splits', {}))})")
    shards = [Shard(root / s["tar"], int(s["samples"])) for s in entry["shards"]]
    for shard in shards:
        if not shard.path.is_file():
            raise FileNotFoundError(f"{shard.path}: listed in {index_path} but missing")
    return shards


def read_raw(path: str | Path) -> Iterator[RawSample]:
    """Raw samples of one tar (members grouped by key, as WebDataset does) with the ``json`` member parsed.

    Headers are parsed by :func:`tar_files` (a tenth of ``tarfile``'s cost per member, a third of the generic
    WebDataset expander's; it matters next to a ~1 ms JPEG decode). A sample without an image or JSON member
    raises, naming the tar and the key.
    """
    sample: RawSample = {}
    for name, data in tar_files(path):
        dot = name.find(".", name.rfind("/") + 1)
        if dot < 0:
            raise RecordError(f"{path}: member {name!r} has no extension")
        key, ext = name[:dot], name[dot + 1 :].lower()
        if sample and key != sample["__key__"]:
            yield _finish(sample)
            sample = {}
        if not sample:
            sample = {"__key__": key, "__url__": str(path)}
        sample[ext] = data
    if sample:
        yield _finish(sample)


def tar_files(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """``(name, data)`` of the regular files of an uncompressed tar, in order: what ``tarfile``'s stream mode gives.

    Plain ustar/GNU headers of regular files (what ``spac`` and WebDataset writers produce) are parsed here; at any
    other valid header (pax, long names, links, directories) the rest of the file is read by ``tarfile`` from that
    header on. Like ``tarfile``, a zero, short or corrupt header ends the archive, and is an error only at the
    start of the file (there ``tarfile`` is asked, for its message).
    """
    with open(path, "rb", buffering=1 << 20) as f:
        while True:
            offset = f.tell()
            header = f.read(512)
            kind, size = _header_kind(header)
            if kind == "file":
                name = header[:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                data, pad = f.read(size), -size % 512
                if len(data) == size and len(f.read(pad)) == pad:  # tarfile also wants the block padding
                    yield name, data
                    continue
            elif kind == "end" and offset:
                return
            f.seek(offset)  # another header type, truncated data, or a bad start: tarfile's behaviour and errors
            with tarfile.open(fileobj=f, mode="r|") as tar:
                for member in tar:
                    if member.isfile():
                        yield member.name, tar.extractfile(member).read()
            return


def _header_kind(header: bytes) -> tuple[str, int]:
    """``("file", size)`` for a plain regular-file header; ``("end", 0)`` for an empty, short, zero or corrupt one
    (where ``tarfile`` stops); ``("other", 0)`` for any other valid header."""
    if len(header) != 512 or not any(header):
        return "end", 0
    try:
        checksum = int(header[148:156].split(b"\0", 1)[0].strip() or b"0", 8)
        size = -1 if header[124] & 0x80 else int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:
        return "end", 0
    unsigned = 256 + sum(header[:148]) + sum(header[156:])
    if checksum != unsigned:  # tarfile also accepts the signed-byte sum of old writers
        signed = unsigned - 256 * sum(b >= 128 for b in header[:148] + header[156:])
        return ("other", 0) if checksum == signed else ("end", 0)
    if header[156] != 0x30 or header[345] or size < 0:  # not a regular file, a ustar prefix, a base-256 size
        return "other", 0
    return "file", size


def _finish(sample: RawSample) -> RawSample:
    if "json" not in sample or not ("jpg" in sample or "png" in sample):
        members = sorted(k for k in sample if not k.startswith("__"))
        raise RecordError(f"{sample['__url__']}: sample {sample['__key__']!r} lacks .jpg/.png or .json ({members})")
    try:
        sample["json"] = json.loads(sample["json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecordError(f"{sample['__url__']}: sample {sample['__key__']!r}: bad JSON ({err})") from None
    return sample


def endless_samples(paths: Sequence[str], *parts: object) -> Iterator[RawSample]:
    """``paths`` read in order, then again reshuffled (seeded by ``parts`` and the pass), forever.

    Raises:
        RuntimeError: when a full pass yields nothing (an empty or mis-keyed stream would otherwise spin).
    """
    order, n = list(paths), 0
    while True:
        count = 0
        for path in order:
            for sample in read_raw(path):
                count += 1
                yield sample
        if count == 0:
            raise RuntimeError(f"shards {list(paths)} yielded no samples (members must be <key>.jpg/.json/.txt)")
        n += 1
        order = list(paths)
        seeded("pass", *parts, n).shuffle(order)


def load_image(
    sample: RawSample, size: tuple[int, int], resample: str, flip: bool, out: torch.Tensor | np.ndarray | None = None
) -> torch.Tensor:
    """Decode, resize to ``size`` (H, W) and optionally mirror one image -> uint8 ``[3, H, W]`` (into ``out``, a
    tensor or a numpy view of one).

    The pixels of ``plip.transforms`` (``load_rgb`` -> ``resize`` -> mirror -> ``to_uint8_tensor``) with one
    copy into the batch instead of four: no RGB->RGB or same-size copies, the mirror and the HWC -> CHW move done
    by one strided numpy copy.
    """
    data = sample.get("jpg", sample.get("png"))
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgb = img if img.mode == "RGB" else img.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(
            f"{sample.get('__url__')}: sample {sample['__key__']!r}: <bytes>: not a readable image ({err})"
        ) from err
    h, w = size
    if rgb.size != (w, h) or resample not in _PIL_FILTERS:  # a same-size resize is a plain copy
        rgb = transforms.resize(rgb, size, resample)
    pixels = np.asarray(rgb).transpose(2, 0, 1)  # [3, H, W] view
    if flip:
        pixels = pixels[:, :, ::-1]
    if out is None:
        out = torch.empty((3, h, w), dtype=torch.uint8)
    np.copyto(out if isinstance(out, np.ndarray) else out.numpy(), pixels)
    return torch.from_numpy(out) if isinstance(out, np.ndarray) else out


def caption_options(sample: RawSample, prompt_weight: float) -> tuple[int, list[tuple[str, list[tuple], float]]]:
    """``(person_id, [(text, spans, weight), ...])`` of one raw sample: its captions, then its prompt caption.

    Read straight from the parsed JSON (no :class:`~spac.records.PersonRecord` per visit, a fifth of a decode),
    checking what the loader uses: schema, fields, person id, texts, span slots and offsets. A record that fails
    is handed to ``spac.records.from_sample`` for its precise :class:`RecordError`. Spans come as
    ``(start, end, slot index)``.
    """
    data = sample["json"]
    try:
        if data.get("schema") != SCHEMA or not _TOP_REQUIRED <= data.keys() <= _TOP_FIELDS:
            raise _Invalid
        pid = data["person_id"]
        if type(pid) is not int or data["key"] != sample["__key__"] or not _valid_fields(data):
            raise _Invalid
        options = []
        for c in data.get("captions") or ():
            if not c.keys() <= _CAPTION_FIELDS:
                raise _Invalid
            options.append((c["text"], _spans(c["text"], c.get("spans")), 1.0))
        prompt = data.get("prompt_caption")
        if prompt is not None:
            spans = _spans(prompt["text"], prompt.get("spans"))
            if not prompt.keys() <= _PROMPT_FIELDS or not isinstance(prompt["template_id"], str):
                raise _Invalid
            if prompt_weight > 0:
                options.append((prompt["text"], spans, prompt_weight))
    except (_Invalid, KeyError, TypeError, AttributeError):
        try:
            from_sample({"__key__": sample["__key__"], "json": data})
        except RecordError as err:
            raise RecordError(f"{sample.get('__url__')}: {err}") from None
        raise RecordError(f"{sample.get('__url__')}: sample {sample['__key__']!r}: malformed record") from None
    if not options:
        raise RecordError(f"{sample.get('__url__')}: sample {data['key']!r} has no caption")
    return pid, options


class _Invalid(Exception):
    """A record the fast reader does not accept (``from_sample`` then says why)."""


_TOP_REQUIRED = frozenset({"schema", "key", "source", "source_ref", "person_id"})
_TOP_FIELDS = _TOP_REQUIRED | {"camera", "tracklet", "attributes", "captions", "prompt_caption", "provenance"}
_CAPTION_FIELDS = frozenset({"text", "style", "generator", "spans"})
_PROMPT_FIELDS = frozenset({"text", "template_id", "spans"})
_SPAN_KEYS = {"slot", "start", "end"}
_SLOT_INDEX = {slot: i for i, slot in enumerate(SLOTS)}
_PIL_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos")  # plip.transforms' names; others go through resize


def _valid_fields(data: dict) -> bool:
    """The checks of ``PersonRecord.from_dict`` on the fields the loader does not read."""
    if type(data["source"]) is not str or type(data["source_ref"]) is not str or type(data["key"]) is not str:
        return False
    if "." in data["key"] or "/" in data["key"] or type(data.get("captions") or []) is not list:
        return False
    if not isinstance(data.get("provenance") or {}, dict):
        return False
    for name in ("camera", "tracklet"):
        if data.get(name) is not None and type(data[name]) is not int:
            return False
    attributes = data.get("attributes") or {}
    if attributes.keys() != _SLOT_INDEX.keys():
        return False
    return all(v is None or (type(v) is str and v.strip() and "," not in v) for v in attributes.values())


def _spans(text: Any, spans: Any) -> list[tuple[int, int, int]]:
    if type(text) is not str or not text.strip():
        raise _Invalid
    out = []
    for span in spans or ():
        start, end = span["start"], span["end"]
        if span.keys() != _SPAN_KEYS or type(start) is not int or type(end) is not int or not 0 <= start < end:
            raise _Invalid
        if end > len(text) or span["slot"] not in _SLOT_INDEX:
            raise _Invalid
        out.append((start, end, _SLOT_INDEX[span["slot"]]))
    return out


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
