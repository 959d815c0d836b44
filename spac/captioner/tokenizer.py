"""Tokenizers of the captioner's GPT-2 decoder: a pretrained one from a folder, or a tiny byte-level BPE.

Tests and the demo cannot download GPT-2's vocabulary, so they train a byte-level BPE (GPT-2's scheme: exact
round-trip of any text) on the training captions and attribute phrases with ``tokenizers``, wrapped in a
``PreTrainedTokenizerFast`` whose single special token ``<|endoftext|>`` is BOS, EOS and padding, as in GPT-2.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

EOS = "<|endoftext|>"


def train_bpe(corpus: Iterable[str], vocab_size: int = 512, out_dir: str | Path | None = None) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on ``corpus`` (saved to ``out_dir`` when given)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(corpus), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS, pad_token=EOS)
    if out_dir is not None:
        fast.save_pretrained(str(out_dir))
    return fast


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerBase:
    """A saved tokenizer (ours or GPT-2's); GPT-2 has no pad token, so EOS pads (labels mask padding anyway)."""
    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok
