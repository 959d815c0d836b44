"""Held-out evaluation of a trained captioner: per-slot attribute accuracy vs a majority baseline, and whether
the generated captions mention the image's attributes (``eval.json``).

- ``slot_accuracy[slot]``: fraction of images whose generated attribute equals the ground truth exactly
  (unknown = unknown counts as correct).
- ``majority_baseline[slot]``: the same for always answering the most frequent training target.
- ``caption_attribute_agreement``: over every generated caption (all styles) and every slot that
  ``spac.text.extract`` finds in it, the fraction equal to the image's ground truth;
  ``caption_attribute_recall``: the fraction of the image's known slots that a caption states correctly.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from spac.captioner.config import TrainCaptionerConfig
from spac.captioner.data import attribute_targets
from spac.captioner.predict import predict
from spac.records import SLOTS, UNKNOWN


def _records(cfg: TrainCaptionerConfig):
    from spac.sources import build_source

    ev = cfg.evaluation
    source = build_source(ev.source, **ev.options)
    n = 0
    for group in source.identities():
        if not group or group[0].person_id < ev.min_person_id:
            continue
        for record in group:
            if n >= ev.max_images:
                return
            n += 1
            yield source, record


def evaluate_captioner(model, tokenizer, cfg: TrainCaptionerConfig, majority: Mapping[str, str],
                       batch_size: int = 32) -> dict:
    from plip.transforms import preprocess
    from spac.text.extract import extract_attributes

    correct = dict.fromkeys(SLOTS, 0)
    base = dict.fromkeys(SLOTS, 0)
    agree = stated = recalled = known = 0
    per_style: dict[str, list[int]] = {}
    n = 0
    batch: list[tuple[torch.Tensor, tuple[str, ...]]] = []

    def flush() -> None:
        nonlocal agree, stated, recalled, known, n
        preds = predict(model, tokenizer, torch.stack([img for img, _ in batch]), num_beams=cfg.evaluation.num_beams,
                        max_attribute_tokens=cfg.max_attribute_tokens, max_caption_tokens=cfg.max_caption_tokens)
        for (_, truth), pred in zip(batch, preds, strict=True):
            n += 1
            got = pred.attributes.as_dict()
            for k, slot in enumerate(SLOTS):
                correct[slot] += (got[slot] or UNKNOWN) == truth[k]
                base[slot] += majority[slot] == truth[k]
            for style, text in pred.captions.items():
                mentioned = extract_attributes(text).known()
                hits = sum(truth[SLOTS.index(s)] == v for s, v in mentioned.items())
                agree += hits
                stated += len(mentioned)
                recalled += hits
                known += sum(t != UNKNOWN for t in truth)
                per_style.setdefault(style, [0, 0])
                per_style[style][0] += hits
                per_style[style][1] += len(mentioned)
        batch.clear()

    for source, record in _records(cfg):
        try:
            image = preprocess(source.read_image(record), cfg.model.image_size)
        except Exception:  # noqa: BLE001 -- an unreadable image is simply not evaluated
            continue
        batch.append((image, attribute_targets(record)))
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    if n == 0:
        raise ValueError(f"evaluation: no readable images in source {cfg.evaluation.source!r} with person_id >= "
                         f"{cfg.evaluation.min_person_id}")
    return {
        "images": n,
        "slot_accuracy": {s: correct[s] / n for s in SLOTS},
        "majority_baseline": {s: base[s] / n for s in SLOTS},
        "majority_value": dict(majority),
        "caption_attribute_agreement": agree / stated if stated else 0.0,
        "caption_attribute_recall": recalled / known if known else 0.0,
        "caption_attribute_agreement_per_style": {s: (h / t if t else 0.0) for s, (h, t) in per_style.items()},
        "num_beams": cfg.evaluation.num_beams,
    }
