"""Helpers shared by the H4 model/task/checkpoint tests: a tiny tokenizer, captions with spans, and batches."""

from __future__ import annotations

import torch

from plip.batch import Batch
from plip.tokenizer import encode_captions, train_wordpiece
from spac.records import Span

PHRASES = {
    "head": ["short black hair", "long brown hair", "a gray cap"],
    "upper": ["red jacket", "white t-shirt", "green coat"],
    "lower": ["blue jeans", "black shorts", "gray skirt"],
    "shoes": ["white sneakers", "black shoes"],
}


def caption(i: int) -> tuple[str, list[Span]]:
    """A deterministic caption with its attribute spans (head, upper, lower and sometimes shoes)."""
    parts = [("a person with ", None), (PHRASES["head"][i % 3], "head"), (" wears a ", None)]
    parts += [(PHRASES["upper"][(i // 3) % 3], "upper"), (" and ", None), (PHRASES["lower"][(i + 1) % 3], "lower")]
    if i % 2:
        parts += [(" with ", None), (PHRASES["shoes"][i % 2], "shoes")]
    parts.append((" .", None))
    text, spans = "", []
    for chunk, slot in parts:
        if slot is not None:
            spans.append(Span(slot=slot, start=len(text), end=len(text) + len(chunk)))
        text += chunk
    return text, spans


def corpus() -> list[str]:
    return [caption(i)[0] for i in range(36)] + ["a woman carrying a red handbag", "a man in a black backpack"]


def make_tokenizer(path):
    return train_wordpiece(corpus(), path, vocab_size=120)


def make_batch(tokenizer, person_ids, image_size=(256, 128), max_length=32, seed=0) -> Batch:
    """A batch of random uint8 images with one caption per sample; captions depend on the identity."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.as_tensor(person_ids, dtype=torch.long)
    caps = [caption(int(p) * 5 + k) for k, p in enumerate(ids.tolist())]
    enc = encode_captions(tokenizer, [c[0] for c in caps], [c[1] for c in caps], max_length=max_length)
    images = torch.randint(0, 256, (len(ids), 3, *image_size), dtype=torch.uint8, generator=g)
    return Batch(images=images, person_ids=ids, **enc)
