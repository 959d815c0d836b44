"""Held-out evaluation of a trained captioner: per-slot attribute accuracy vs a majority baseline, and whether
the generated captions mention the image's attributes (``eval.json``).

- ``slot_accuracy[slot]``: fraction of images whose generated attribute equals the ground truth exactly
  (unknown = unknown counts as correct).
- ``majority_baseline[slot]``: the same for always answering the most frequent training target;
  ``chance[slot]``: the expected accuracy of guessing uniformly among the slot's training values.
- ``slot_word_f1[slot]``: mean word-level F1 between generated and true attribute phrases (``"black bag"`` for
  ``"red bag"`` scores 0.5): where exact accuracy is low, it tells a wrong colour from a wrong item.
- ``caption_attribute_agreement``: over every generated caption (all styles) and every slot that
  ``spac.text.extract`` finds in it, the fraction equal to the image's ground truth;
  ``caption_attribute_recall``: the fraction of the image's known slots that a caption states correctly.
"""

from __future__ import annotations

from collections import Counter
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


def word_f1(pred: str, truth: str) -> float:
    """Word-level F1 of two attribute phrases (bags of words, as SQuAD scores answers)."""
    p, t = Counter(pred.split()), Counter(truth.split())
    common = sum((p & t).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def evaluate_captioner(model, tokenizer, cfg: TrainCaptionerConfig, train_counts: Mapping[str, Counter],
                       batch_size: int = 32) -> dict:
    """Evaluate on ``cfg.evaluation``'s held-out images; ``train_counts[slot]`` counts the training targets."""
    from plip.transforms import preprocess
    from spac.text.extract import extract_attributes

    majority = {slot: train_counts[slot].most_common(1)[0][0] for slot in SLOTS}
    correct = dict.fromkeys(SLOTS, 0)
    base = dict.fromkeys(SLOTS, 0)
    f1 = dict.fromkeys(SLOTS, 0.0)
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
                f1[slot] += word_f1(got[slot] or UNKNOWN, truth[k])
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
        "chance": {s: 1 / len(train_counts[s]) for s in SLOTS},
        "slot_word_f1": {s: f1[s] / n for s in SLOTS},
        "caption_attribute_agreement": agree / stated if stated else 0.0,
        "caption_attribute_recall": recalled / known if known else 0.0,
        "caption_attribute_agreement_per_style": {s: (h / t if t else 0.0) for s, (h, t) in per_style.items()},
        "num_beams": cfg.evaluation.num_beams,
    }
