"""plip.tokenizer.encode_captions: the vectorised span -> token alignment and the direct backend call give exactly
what the plain per-caption implementation (kept here as the reference) gives: spans on token boundaries, inside
words, overlapping, tied, empty captions, special tokens in the text, truncation, left truncation."""

import random

import numpy as np
import pytest
import torch

from plip.tokenizer import encode_captions, encode_with_spans, slot_index, train_wordpiece
from spac.records import SLOTS, Span

WORDS = "a man woman in red blue black jacket t-shirt jeans short long hair carries backpack Café naïve , .".split()


def reference(tokenizer, texts, spans=None, max_length=64):
    """The straightforward implementation: one HF call, then one boolean mask per span, written in start order."""
    enc = tokenizer(
        list(texts),
        padding="max_length",
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    offsets = enc["offset_mapping"]
    phrase_ids = torch.zeros(offsets.shape[:2], dtype=torch.long)
    phrase_slots = torch.full(offsets.shape[:2], -1, dtype=torch.long)
    if spans is not None:
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


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(200)]
    return train_wordpiece(corpus, tmp_path_factory.mktemp("tok"), vocab_size=120)


def _assert_same(got, want):
    assert got.keys() == want.keys()
    for name in want:
        assert got[name].dtype == want[name].dtype == torch.long, name
        assert got[name].shape == want[name].shape, name
        assert torch.equal(got[name], want[name]), name


def _random_case(rng):
    if rng.random() < 0.1:
        text = ""
    else:
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30)))
        if rng.random() < 0.2:
            text = text.replace(" in ", " [MASK] in ", 1)  # a special token inside the text never joins a span
    spans = []
    for _ in range(rng.randint(0, 6) if text else 0):
        if rng.random() < 0.5:  # a whole word, on token boundaries
            words = [(m, m + len(w)) for m, w in _word_positions(text)]
            start, end = rng.choice(words)
            end = min(len(text), end + rng.choice([0, 0, 5, 12]))  # sometimes running into later words
        else:  # anywhere: inside words, across spaces, overlapping others
            start = rng.randrange(len(text))
            end = rng.randint(start + 1, min(len(text), start + 15))
        spans.append(Span(slot=rng.choice(SLOTS), start=start, end=end))
    if spans and rng.random() < 0.2:
        spans.append(Span(slot=rng.choice(SLOTS), start=spans[0].start, end=spans[0].end))  # a tie on start
    return text, tuple(spans)


def _word_positions(text):
    pos = 0
    for word in text.split(" "):
        yield pos, word
        pos += len(word) + 1


@pytest.mark.parametrize("max_length", [6, 16, 64])
def test_random_batches_equal_the_reference(tokenizer, max_length):
    rng = random.Random(max_length)
    for _ in range(25):
        cases = [_random_case(rng) for _ in range(rng.randint(1, 12))]
        texts, spans = [c[0] for c in cases], [c[1] for c in cases]
        _assert_same(
            encode_captions(tokenizer, texts, spans, max_length), reference(tokenizer, texts, spans, max_length)
        )
        _assert_same(
            encode_captions(tokenizer, texts, None, max_length), reference(tokenizer, texts, None, max_length)
        )


def test_hand_checked_overlap_truncation_and_empty(tokenizer):
    texts = ["a man in a red jacket", "", "blue jeans " * 20]
    spans = [
        # "man" (gender), "red jacket" (upper) and "jacket" again (lower, later start: wins on "jacket")
        (
            Span(slot="upper", start=11, end=21),
            Span(slot="gender", start=2, end=5),
            Span(slot="lower", start=15, end=21),
        ),
        (),
        (
            Span(slot="lower", start=0, end=10),
            Span(slot="lower", start=200, end=210),
        ),  # the second lies past max_length
    ]
    got = encode_captions(tokenizer, texts, spans, max_length=8)
    _assert_same(got, reference(tokenizer, texts, spans, max_length=8))
    tokens = [tokenizer.convert_ids_to_tokens(row) for row in got["input_ids"].tolist()]
    ids, slots = got["phrase_ids"][0].tolist(), got["phrase_slots"][0].tolist()
    marks = {t: (k, s) for t, k, s in zip(tokens[0], ids, slots, strict=True)}
    assert marks["man"] == (1, SLOTS.index("gender"))
    assert marks["[CLS]"] == marks["[SEP]"] == marks["a"] == (0, -1)
    jacket = [i for i, t in enumerate(tokens[0]) if t in ("jack", "##et", "jacket")]
    assert jacket and all(
        got["phrase_ids"][0, i] == 3 and got["phrase_slots"][0, i] == SLOTS.index("lower") for i in jacket
    )
    assert got["attention_mask"][1].tolist() == [1, 1, 0, 0, 0, 0, 0, 0] and (got["phrase_ids"][1] == 0).all()
    assert got["input_ids"][2, -1] == tokenizer.sep_token_id and set(got["phrase_ids"][2].tolist()) <= {0, 1}


def test_left_truncation_and_flat_form(tokenizer):
    texts = ["a man in a red jacket and blue jeans carries a black backpack"] * 2
    spans = [(Span(slot="belongings", start=48, end=62),), (Span(slot="upper", start=11, end=21),)]
    tokenizer.truncation_side = "left"
    try:
        _assert_same(encode_captions(tokenizer, texts, spans, 8), reference(tokenizer, texts, spans, 8))
    finally:
        tokenizer.truncation_side = "right"
    _assert_same(encode_captions(tokenizer, texts, spans, 8), reference(tokenizer, texts, spans, 8))
    # flat form, spans given out of order: the same numbering by start
    flat = encode_with_spans(tokenizer, texts[:1], ([0, 0], [48, 2], [62, 5], [slot_index("belongings"), 0]), 16)
    want = reference(tokenizer, texts[:1], [(Span(slot="gender", start=2, end=5), spans[0][0])], 16)
    _assert_same(flat, want)
    assert np.array_equal(np.unique(flat["phrase_ids"]), [0, 1, 2])


def test_errors(tokenizer):
    with pytest.raises(ValueError, match="2 texts but 1 span lists"):
        encode_captions(tokenizer, ["a", "b"], [()])
    with pytest.raises(ValueError, match="span rows"):
        encode_with_spans(tokenizer, ["a"], ([1], [0], [1], [0]))
    with pytest.raises(ValueError):
        slot_index("hat")


def test_transformers_without_padding_side_argument(tokenizer, monkeypatch):
    """Older transformers (< 4.45) have set_truncation_and_padding without ``padding_side``: same output."""
    texts = ["a man in red jacket", "woman , long hair carries backpack"]
    spans = [[Span(slot="gender", start=2, end=5)], [Span(slot="head", start=16, end=25)]]
    want = reference(tokenizer, texts, spans, max_length=16)
    original = type(tokenizer).set_truncation_and_padding

    def old_signature(self, padding_strategy, truncation_strategy, max_length, stride, pad_to_multiple_of):
        return original(self, padding_strategy, truncation_strategy, max_length, stride, pad_to_multiple_of, None)

    monkeypatch.setattr(type(tokenizer), "set_truncation_and_padding", old_signature)
    _assert_same(encode_captions(tokenizer, texts, spans, max_length=16), want)
