"""Batched prediction with a SpacCaptioner: six attributes (greedy/beam per branch) + one caption per style."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spac.captioner.decoding import generate
from spac.captioner.model import SpacCaptioner
from spac.records import SLOTS, UNKNOWN, Attributes


@dataclass(frozen=True)
class Prediction:
    attributes: Attributes
    captions: dict[str, str]  # style -> text


def to_attribute(text: str) -> str | None:
    """A generated attribute phrase as a slot value: ``unknown``/empty -> None; commas are not allowed."""
    value = " ".join(text.replace(",", " ").split())
    return None if value.lower() in ("", UNKNOWN) else value


@torch.inference_mode()
def predict(model: SpacCaptioner, tokenizer, images: torch.Tensor, *, num_beams: int = 1,
            max_attribute_tokens: int = 8, max_caption_tokens: int = 64, length_penalty: float = 0.0,
            styles: tuple[str, ...] | None = None) -> list[Prediction]:
    """``images``: uint8 ``[B, 3, H, W]`` at the model's image size. All 6B attribute sequences decode as one
    batch, then all (styles x B) captions."""
    model.eval()
    device = next(model.parameters()).device
    prefixes = model.encode(images.to(device))
    b, n_slots, t, d = prefixes.attributes.shape
    eos = tokenizer.eos_token_id
    kw = {"eos_token_id": eos, "num_beams": num_beams, "length_penalty": length_penalty}
    attrs = generate(model.decoder, prefixes.attributes.reshape(b * n_slots, t, d),
                     max_new_tokens=max_attribute_tokens, **kw)
    texts = tokenizer.batch_decode(attrs.ids, skip_special_tokens=True)
    styles = styles or model.styles
    union = prefixes.union()
    caption_prefix = torch.cat([model.style_encoders[model.styles.index(s)](union) for s in styles])
    caps = generate(model.decoder, caption_prefix, max_new_tokens=max_caption_tokens, **kw)
    cap_texts = [t.strip() for t in tokenizer.batch_decode(caps.ids, skip_special_tokens=True)]
    out = []
    for i in range(b):
        values = {slot: to_attribute(texts[i * n_slots + k]) for k, slot in enumerate(SLOTS)}
        out.append(Prediction(attributes=Attributes(**values),
                              captions={s: cap_texts[j * b + i] for j, s in enumerate(styles)}))
    return out
