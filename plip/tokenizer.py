"""Text tokenisation for PLIP: BERT-family tokenizers, and the alignment of attribute spans to token positions.

Real runs load a tokenizer from a local folder or a Hugging Face id (``bert-base-uncased``); tests and the demo
train a tiny WordPiece vocabulary from captions with ``tokenizers`` (no download), see :func:`train_wordpiece`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertTokenizerFast, PreTrainedTokenizerBase

from spac.records import SLOTS, Span

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


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
    belongs to a span when its character range overlaps the span's; special tokens never do.
    """
    enc = tokenizer(
        list(texts),
        padding="max_length",
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    offsets = enc["offset_mapping"]  # [N, L, 2]
    phrase_ids = torch.zeros(offsets.shape[:2], dtype=torch.long)
    phrase_slots = torch.full(offsets.shape[:2], -1, dtype=torch.long)
    if spans is not None:
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        real = (enc["special_tokens_mask"] == 0) & (offsets[..., 1] > offsets[..., 0])
        for i, text_spans in enumerate(spans):
            for k, span in enumerate(sorted(text_spans, key=lambda s: s.start), start=1):
                inside = real[i] & (offsets[i, :, 0] < span.end) & (offsets[i, :, 1] > span.start)
                phrase_ids[i, inside] = k
                phrase_slots[i, inside] = SLOTS.index(span.slot)
    return {
        "input_ids": enc["input_ids"].long(),
        "attention_mask": enc["attention_mask"].long(),
        "phrase_ids": phrase_ids,
        "phrase_slots": phrase_slots,
    }
