"""Tiny synthetic shard folders in the spac layout, for tests, benchmarks and smoke runs of the trainer.

Each identity has an upper and a lower colour drawn as two blocks on a noisy background, and captions naming
them ("a man in a red shirt and blue trousers") with attribute spans, so a model can learn something. Shards
are written with ``spac.records.to_sample`` + ``webdataset.TarWriter`` (identities contiguous) plus an
``index.json`` with the sample counts the loader reads.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import webdataset as wds
from PIL import Image

from spac.records import Attributes, Caption, PersonRecord, PromptCaption, Span, to_sample

COLOURS = {
    "red": (200, 30, 40),
    "blue": (40, 70, 190),
    "green": (40, 140, 60),
    "yellow": (230, 200, 40),
    "black": (25, 25, 30),
    "white": (235, 235, 230),
    "gray": (128, 128, 130),
    "purple": (120, 50, 150),
}


def _phrase_spans(text: str, phrases: dict[str, str]) -> tuple[Span, ...]:
    spans = []
    for slot, phrase in phrases.items():
        start = text.index(phrase)
        spans.append(Span(slot=slot, start=start, end=start + len(phrase)))
    return tuple(sorted(spans, key=lambda s: s.start))


def make_record(pid: int, index: int, key: str, size: tuple[int, int] = (64, 32), seed: int = 0) -> PersonRecord:
    """One synthetic record of identity ``pid`` (look fixed by ``pid``; pose noise by ``index``)."""
    look = random.Random(f"look-{seed}-{pid}")
    upper, lower = look.sample(sorted(COLOURS), 2)
    gender = look.choice(["man", "woman"])
    rng = np.random.default_rng([seed, pid, index])
    h, w = size
    img = rng.integers(60, 120, size=(h, w, 3)).astype(np.uint8)
    top = int(rng.integers(0, h // 8 + 1))
    img[top + h // 8 : h // 2, w // 4 : 3 * w // 4] = COLOURS[upper]
    img[h // 2 : h - h // 8, w // 4 : 3 * w // 4] = COLOURS[lower]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=90)
    up, low = f"{upper} shirt", f"{lower} trousers"
    text = f"a {gender} in a {up} and {low}"
    alt = f"the {gender} wears {low} and a {up}"
    phrases = {"gender": gender, "upper": up, "lower": low}
    return PersonRecord(
        key=key,
        source="synthetic",
        source_ref=f"{pid}/{index}",
        person_id=pid,
        attributes=Attributes(gender=gender, upper=up, lower=low),
        captions=(
            Caption(text=text, style="plain", spans=_phrase_spans(text, phrases)),
            Caption(text=alt, style="alt", spans=_phrase_spans(alt, phrases)),
        ),
        prompt_caption=PromptCaption(
            text=f"{gender}, {up}, {low}", template_id="t0", spans=_phrase_spans(f"{gender}, {up}, {low}", phrases)
        ),
        image=buf.getvalue(),
    )


def write_synthetic_shards(
    out: str | Path,
    *,
    identities: int = 32,
    images_per_identity: int = 4,
    shards: int = 4,
    val_identities: int = 0,
    size: tuple[int, int] = (64, 32),
    seed: int = 0,
) -> Path:
    """Write ``train`` (and ``val`` if ``val_identities``) shards + ``index.json`` into ``out``; returns ``out``.

    Identities are dealt to shards in contiguous blocks; person ids are 1000 + i (train) and 5000 + i (val).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index: dict = {"schema": "spac/1", "splits": {}}
    plan = {"train": (identities, 1000, shards)}
    if val_identities:
        plan["val"] = (val_identities, 5000, 1)
    for split, (n_ids, base, n_shards) in plan.items():
        entries = []
        for shard in range(n_shards):
            pids = [base + i for i in range(n_ids) if i * n_shards // n_ids == shard]
            name = f"{split}-{shard:06d}.tar"
            count = 0
            with wds.TarWriter(str(out / name), mtime=0) as writer:
                for pid in pids:
                    for k in range(images_per_identity):
                        key = f"{'' if split == 'train' else 'v'}{shard:06d}{count:06d}"
                        writer.write(to_sample(make_record(pid, k, key, size, seed)))
                        count += 1
            entries.append({"tar": name, "samples": count, "identities": len(pids)})
        index["splits"][split] = {"shards": entries, "samples": sum(e["samples"] for e in entries)}
    (out / "index.json").write_text(json.dumps(index, indent=2))
    return out
