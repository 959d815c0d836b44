"""Training examples of the captioner: (image, six attribute targets, one caption, its style) from sources.

Caption corpora (``cuhk-pedes``, ``icfg-pedes``, ``rstpreid``, ``synth-pedes``) give human captions; their
style is the corpus' (one style per corpus, METHOD.md §1.5). Attribute targets are the record's own attributes
when the source knows them, else the union over the image's captions of what ``spac.text.extract`` mines from
each caption (METHOD.md §1.3); a slot nobody mentions is the target ``"unknown"``. Sources without captions
(``demo``) get one caption per ``demo_styles`` entry rendered from their ground-truth attributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from spac.captioner.backend_template import style_name
from spac.captioner.config import CorpusConfig
from spac.records import SLOTS, UNKNOWN, Attributes, PersonRecord


class CaptionDataError(ValueError):
    """The training corpora cannot be used as configured (unknown style, no captions); the message says why."""


@dataclass(frozen=True)
class Example:
    corpus: int  # index into the corpora (which source reads the image)
    record: PersonRecord
    caption: str
    style: int
    targets: tuple[str, ...]  # six attribute target strings, "unknown" for a missing slot


def attribute_targets(record: PersonRecord) -> tuple[str, ...]:
    """The six target strings of ``record`` (its own attributes, or the union mined from its captions)."""
    attrs = record.attributes
    if not attrs.known() and record.captions:
        from spac.text.extract import extract_attributes

        mined: dict[str, str] = {}
        for caption in record.captions:
            for slot, value in extract_attributes(caption.text).known().items():
                mined.setdefault(slot, value)
        attrs = Attributes(**mined)
    return tuple(attrs.as_dict()[slot] or UNKNOWN for slot in SLOTS)


def held_out(seed: int, corpus: str, person_id: int, fraction: float) -> bool:
    """Identity-level validation split: a stable hash of (seed, corpus, identity) below ``fraction``."""
    digest = hashlib.sha256(f"{seed}/{corpus}/{person_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def iter_examples(corpora: Sequence[CorpusConfig], styles: Sequence[str], *,
                  max_person_id: int | None = None) -> Iterator[tuple[int, list[Example]]]:
    """Yield ``(corpus index, examples of one identity)`` for every identity of every corpus."""
    from spac.sources import build_source

    for ci, corpus in enumerate(corpora):
        source = build_source(corpus.source, **corpus.options)
        for group in source.identities():
            if max_person_id is not None and group and group[0].person_id >= max_person_id:
                continue
            examples = [ex for record in group if not record.provenance.get("invalid")
                        for ex in _record_examples(ci, corpus, record, styles)]
            yield ci, examples


def _record_examples(ci: int, corpus: CorpusConfig, record: PersonRecord, styles: Sequence[str]) -> list[Example]:
    texts: list[tuple[str, str]] = []
    if corpus.demo_styles:
        from spac.text.render import render_prompt

        seed = int.from_bytes(hashlib.sha256(record.source_ref.encode()).digest()[:4], "big")
        texts = [(render_prompt(record.attributes, style=s, seed=seed).text, style_name(s)) for s in corpus.demo_styles]
    else:
        texts = [(c.text, corpus.style or c.style) for c in record.captions]
    out = []
    targets = attribute_targets(record)
    for text, style in texts:
        if style not in styles:
            raise CaptionDataError(f"corpus {corpus.source!r}: caption style {style!r} is not one of the model's "
                                   f"styles {tuple(styles)}; set the corpus' style= or model.styles")
        out.append(Example(corpus=ci, record=record, caption=text, style=styles.index(style), targets=targets))
    return out


class CaptionDataset(Dataset):
    """Examples -> ``{"image": uint8 [3, H, W] or None (unreadable), "targets", "caption", "style"}``."""

    def __init__(self, examples: Sequence[Example], corpora: Sequence[CorpusConfig], image_size: tuple[int, int],
                 *, cache_images: bool = False) -> None:
        self.examples, self.corpora, self.image_size = list(examples), list(corpora), tuple(image_size)
        self.cache: dict[tuple[int, str], torch.Tensor] | None = {} if cache_images else None
        self._sources = None

    def __len__(self) -> int:
        return len(self.examples)

    def image(self, ex: Example) -> torch.Tensor | None:
        from plip.transforms import preprocess
        from spac.sources import ImageReadError, build_source

        key = (ex.corpus, ex.record.source_ref)
        if self.cache is not None and key in self.cache:
            return self.cache[key]
        if self._sources is None:  # built lazily so that DataLoader workers rebuild their own
            self._sources = [build_source(c.source, **c.options) for c in self.corpora]
        try:
            image = preprocess(self._sources[ex.corpus].read_image(ex.record), self.image_size)
        except (ImageReadError, ValueError):
            return None  # the collate function drops it and counts it
        if self.cache is not None:
            self.cache[key] = image
        return image

    def __getitem__(self, i: int) -> dict:
        ex = self.examples[i]
        return {"image": self.image(ex), "targets": ex.targets, "caption": ex.caption, "style": ex.style}


class Collate:
    """Tokenise targets (each ends with EOS, truncated to the max lengths), pad, flip images horizontally."""

    def __init__(self, tokenizer, *, max_attribute_tokens: int, max_caption_tokens: int, hflip: float = 0.0,
                 seed: int = 0) -> None:
        self.tok, self.max_a, self.max_c, self.hflip = tokenizer, max_attribute_tokens, max_caption_tokens, hflip
        self.rng = torch.Generator().manual_seed(seed)

    def encode(self, texts: Sequence[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        eos = self.tok.eos_token_id
        rows = [self.tok(t, add_special_tokens=False)["input_ids"][: max_len - 1] + [eos] for t in texts]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), eos, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return ids, mask

    def __call__(self, items: list[dict]) -> dict:
        items = [it for it in items if it["image"] is not None]
        if not items:
            return {"size": 0}
        images = torch.stack([it["image"] for it in items])
        if self.hflip > 0:
            flip = torch.rand(len(items), generator=self.rng) < self.hflip
            images[flip] = images[flip].flip(-1)
        a_ids, a_mask = self.encode([t for it in items for t in it["targets"]], self.max_a)
        c_ids, c_mask = self.encode([it["caption"] for it in items], self.max_c)
        n = len(items)
        return {
            "size": n,
            "images": images,
            "attribute_ids": a_ids.view(n, len(SLOTS), -1),
            "attribute_mask": a_mask.view(n, len(SLOTS), -1),
            "caption_ids": c_ids,
            "caption_mask": c_mask,
            "styles": torch.tensor([it["style"] for it in items], dtype=torch.long),
        }
