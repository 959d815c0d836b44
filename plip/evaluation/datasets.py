"""Text-to-image retrieval sets: held-out spac shards, and the CUHK-PEDES / ICFG-PEDES / RSTPReid layouts.

A :class:`RetrievalSet` is a gallery of images (bytes or paths) with identities and a list of query captions
with identities; every caption of every image is a query (IRRA's protocol). Layouts (FORMATS.md):
CUHK-PEDES ``reid_raw.json`` + ``imgs/``; ICFG-PEDES ``ICFG-PEDES.json`` or ``ICFG_PEDES.json`` + ``imgs/``
(same records); RSTPReid ``data_captions.json`` (``img_path``) + ``imgs/``. Splits come from ``split`` fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spac.records import from_sample

LAYOUTS = {
    "cuhk-pedes": ("reid_raw.json",),
    "icfg-pedes": ("ICFG-PEDES.json", "ICFG_PEDES.json"),
    "rstpreid": ("data_captions.json",),
}


@dataclass
class RetrievalSet:
    """``images``: encoded bytes or file paths; ``image_ids``/``text_ids``: identity per row."""

    name: str
    images: list[bytes | Path]
    image_ids: np.ndarray
    texts: list[str]
    text_ids: np.ndarray

    def __post_init__(self) -> None:
        if len(self.images) != len(self.image_ids) or len(self.texts) != len(self.text_ids):
            raise ValueError(f"{self.name}: images/ids or texts/ids differ in length")
        if not self.images or not self.texts:
            raise ValueError(f"{self.name}: empty retrieval set ({len(self.images)} images, {len(self.texts)} texts)")


def from_shards(root: str | Path, split: str = "val", texts: str = "captions") -> RetrievalSet:
    """Gallery = every image of ``split``; queries = its captions (``texts="captions"``, the prompt caption only
    when a record has none), or captions and prompt captions (``"all"``), or prompt captions (``"prompt"``)."""
    from plip.data import read_raw, read_split

    if texts not in ("captions", "all", "prompt"):
        raise ValueError(f"texts must be 'captions', 'all' or 'prompt', got {texts!r}")
    images, image_ids, queries, query_ids = [], [], [], []
    for shard in read_split(root, split):
        for sample in read_raw(shard.path):
            record = from_sample(sample)
            images.append(record.image)
            image_ids.append(record.person_id)
            chosen = [c.text for c in record.captions] if texts != "prompt" else []
            if record.prompt_caption is not None and (texts != "captions" or not chosen):
                chosen.append(record.prompt_caption.text)
            queries += chosen
            query_ids += [record.person_id] * len(chosen)
    return RetrievalSet(f"{Path(root).name}/{split}", images, np.array(image_ids), queries, np.array(query_ids))


def from_layout(root: str | Path, split: str = "test", layout: str | None = None) -> RetrievalSet:
    """A CUHK-PEDES / ICFG-PEDES / RSTPReid folder; ``layout`` None detects it from the annotation file name."""
    root = Path(root)
    candidates = LAYOUTS if layout is None else {layout: LAYOUTS[layout]} if layout in LAYOUTS else None
    if candidates is None:
        raise ValueError(f"unknown layout {layout!r}; choose from {sorted(LAYOUTS)}")
    found = [(name, root / f) for name, files in candidates.items() for f in files if (root / f).is_file()]
    if not found:
        wanted = sorted(f for files in candidates.values() for f in files)
        raise FileNotFoundError(f"{root}: none of {wanted} found (expected a CUHK-PEDES/ICFG-PEDES/RSTPReid folder)")
    name, ann = found[0]
    try:
        records = json.loads(ann.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{ann}: not valid JSON ({err})") from None
    images, image_ids, queries, query_ids = [], [], [], []
    for i, rec in enumerate(records):
        if rec.get("split") != split:
            continue
        rel = rec.get("img_path", rec.get("file_path"))
        if rel is None or "id" not in rec or not isinstance(rec.get("captions"), list):
            raise ValueError(f"{ann}: record {i} lacks id, file_path/img_path or captions")
        images.append(root / "imgs" / rel)
        image_ids.append(int(rec["id"]))
        queries += [str(c) for c in rec["captions"]]
        query_ids += [int(rec["id"])] * len(rec["captions"])
    if not images:
        raise ValueError(f"{ann}: no records with split {split!r}")
    missing = [p for p in images if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{ann}: {len(missing)} image(s) missing under {root / 'imgs'}, e.g. {missing[0]}")
    return RetrievalSet(f"{name}/{split}", images, np.array(image_ids), queries, np.array(query_ids))
