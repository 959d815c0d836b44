"""Text tokenisation for PLIP: BERT-family tokenizers, and the alignment of attribute spans to token positions.

Real runs load a tokenizer from a local folder or a Hugging Face id (``bert-base-uncased``); tests and the demo
train a tiny WordPiece vocabulary from captions with ``tokenizers`` (no download), see :func:`train_wordpiece`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer, BertTokenizerFast, PreTrainedTokenizerBase
from transformers.tokenization_utils_base import TruncationStrategy
from transformers.utils import PaddingStrategy

from spac.records import SLOTS, Span

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SLOT_INDEX = {slot: i for i, slot in enumerate(SLOTS)}  # slot name -> index in SLOTS (phrase_slots values)


def train_wordpiece(corpus: Iterable[str], out_dir: str | Path, vocab_size: int = 1000) -> BertTokenizerFast:
    """Train a lower-cased WordPiece vocabulary on ``corpus`` and save a BERT tokenizer to ``out_dir``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS)
    tok.train_from_iterator(list(corpus), trainer)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    (out / "vocab.txt").write_text("".join(word + "\n" for word, _ in vocab))
    # transformers 5 silently ignores ``vocab_file=``; ``vocab=`` is the argument that works (ENV.md §2.1).
    bert = BertTokenizerFast(vocab=str(out / "vocab.txt"), do_lower_case=True)
    bert.save_pretrained(out)
    return bert


def load_tokenizer(name_or_path: str | Path) -> PreTrainedTokenizerBase:
    """A fast tokenizer from a local folder or a Hub id (served from the local cache when offline)."""
    return AutoTokenizer.from_pretrained(str(name_or_path), use_fast=True)


def encode_captions(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    spans: Sequence[Sequence[Span]] | None = None,
    max_length: int = 64,
) -> dict[str, torch.Tensor]:
    """Tokenise ``texts`` (padded to ``max_length``) and mark the tokens of each attribute span.

    Returns ``input_ids``, ``attention_mask``, ``phrase_ids`` (k >= 1 on the tokens of the k-th span of that
    text, 0 elsewhere) and ``phrase_slots`` (slot index, -1 elsewhere), each long ``[N, max_length]``. A token
    belongs to a span when its character range overlaps the span's; special tokens never do. Where spans of one
    text overlap, a token takes the last of them in order of start.
    """
    rows: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    slots: list[int] = []
    if spans is not None:
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        for i, text_spans in enumerate(spans):
            for span in text_spans:
                rows.append(i)
                starts.append(span.start)
                ends.append(span.end)
                slots.append(slot_index(span.slot))
    return encode_with_spans(tokenizer, texts, (rows, starts, ends, slots), max_length=max_length)


def slot_index(slot: str) -> int:
    """Index of ``slot`` in ``spac.records.SLOTS`` (ValueError for an unknown slot)."""
    index = SLOT_INDEX.get(slot)
    return SLOTS.index(slot) if index is None else index


def encode_with_spans(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    spans: tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[int]],
    max_length: int = 64,
) -> dict[str, torch.Tensor]:
    """:func:`encode_captions` with the spans given flat, as ``(rows, starts, ends, slot indices)``.

    The loader's form: it builds these lists straight from the records' JSON, without :class:`Span` objects.
    Spans of a row may come in any order; they are numbered by start (ties keep their given order).
    """
    rows, starts, ends, slots = (np.asarray(a, dtype=np.int64) for a in spans)
    ids, attention, offsets, special = _tokenize(tokenizer, list(texts), max_length, need_offsets=len(rows) > 0)
    phrase_ids = np.zeros(ids.shape, dtype=np.int64)
    phrase_slots = np.full(ids.shape, -1, dtype=np.int64)
    if len(rows):
        if rows.min() < 0 or rows.max() >= len(ids):
            raise ValueError(f"span rows must lie in 0..{len(ids) - 1}")
        _align(offsets, special, rows, starts, ends, slots, phrase_ids, phrase_slots)
    return {
        "input_ids": torch.from_numpy(ids),
        "attention_mask": torch.from_numpy(attention),
        "phrase_ids": torch.from_numpy(phrase_ids),
        "phrase_slots": torch.from_numpy(phrase_slots),
    }


def _tokenize(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, need_offsets: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """ids, attention mask, offsets ``[N, L, 2]`` and special-token mask as int64 arrays.

    A fast tokenizer is driven directly: the same backend settings the ``tokenizer(...)`` call would make
    (``set_truncation_and_padding``), then one ``encode_batch``, without the per-text dicts and nested-list tensor
    conversions of ``BatchEncoding`` (most of the loader's text cost). Other tokenizers take the plain call.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or tokenizer.pad_token_id is None or not hasattr(tokenizer, "set_truncation_and_padding"):
        enc = tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=max_length,
            return_offsets_mapping=need_offsets,
            return_special_tokens_mask=need_offsets,
            return_tensors="np",
        )
        arrays = [enc["input_ids"], enc["attention_mask"]]
        arrays += [enc["offset_mapping"], enc["special_tokens_mask"]] if need_offsets else [None, None]
        return tuple(None if a is None else np.asarray(a, dtype=np.int64) for a in arrays)
    settings = dict(
        padding_strategy=PaddingStrategy.MAX_LENGTH,
        truncation_strategy=TruncationStrategy.LONGEST_FIRST,
        max_length=max_length,
        stride=0,
        pad_to_multiple_of=None,
    )
    try:
        tokenizer.set_truncation_and_padding(**settings, padding_side=None)
    except TypeError:  # transformers < 4.45 has no padding_side argument
        tokenizer.set_truncation_and_padding(**settings)
    split = bool(getattr(tokenizer, "split_special_tokens", False))
    if backend.encode_special_tokens != split:
        backend.encode_special_tokens = split
    encodings = backend.encode_batch(texts, add_special_tokens=True)
    shape = (len(texts), max_length)
    ids = np.array([e.ids for e in encodings], dtype=np.int64).reshape(shape)
    attention = np.array([e.attention_mask for e in encodings], dtype=np.int64).reshape(shape)
    if not need_offsets:
        return ids, attention, None, None
    # fromiter over the flat numbers: ten times faster than np.array on lists of (start, end) tuples
    offsets = np.fromiter(chain.from_iterable(chain.from_iterable(e.offsets for e in encodings)), dtype=np.int64)
    offsets = offsets.reshape(*shape, 2)
    special = np.array([e.special_tokens_mask for e in encodings], dtype=np.int64).reshape(shape)
    return ids, attention, offsets, special


def _align(
    offsets: np.ndarray,
    special: np.ndarray,
    rows: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    slots: np.ndarray,
    phrase_ids: np.ndarray,
    phrase_slots: np.ndarray,
) -> None:
    """Span -> token marks for all spans of a batch at once (``[S, L]`` overlap tests, no Python loop).

    Spans are numbered k = 1, 2, ... by start within their row; a token inside several spans keeps the largest k
    (what writing the spans one after another in that order leaves behind).
    """
    order = np.lexsort((starts, rows))  # by row, then start; stable, so equal starts keep their given order
    rows, starts, ends, slots = rows[order], starts[order], ends[order], slots[order]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])  # index of each row's first span
    counts = np.diff(np.r_[first, len(rows)])
    k = np.arange(len(rows)) - np.repeat(first, counts) + 1
    real = (special[rows] == 0) & (offsets[rows, :, 1] > offsets[rows, :, 0])
    inside = real & (offsets[rows, :, 0] < ends[:, None]) & (offsets[rows, :, 1] > starts[:, None])
    winner = np.maximum.reduceat(np.where(inside, k[:, None], 0), first, axis=0)  # [rows with spans, L]
    target = rows[first]
    phrase_ids[target] = winner
    span_of = np.where(winner > 0, first[:, None] + winner - 1, 0)  # index of the winning span in the sorted list
    phrase_slots[target] = np.where(winner > 0, slots[span_of], -1)
