"""The ``spac`` back-end: a trained SPAC prefix captioner (``spac train-captioner``'s ``checkpoint/``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from spac.captioner.backends import CaptionOutput, register_backend
from spac.captioner.checkpoint import load_captioner
from spac.captioner.predict import predict
from spac.records import PersonRecord


@register_backend("spac")
class SpacBackend:
    """Options: ``model`` (checkpoint folder), ``num_beams``, ``max_attribute_tokens``, ``max_caption_tokens``,
    ``length_penalty``, ``styles`` (subset of the model's, default all), ``device``."""

    name = "spac"
    needs_images = True

    def __init__(self, *, model: str, num_beams: int = 1, max_attribute_tokens: int = 8,
                 max_caption_tokens: int = 64, length_penalty: float = 0.0, styles: Sequence[str] | None = None,
                 device: str | None = None) -> None:
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        loaded = load_captioner(model, device=device)
        self.model, self.tokenizer, self.revision = loaded.model, loaded.tokenizer, loaded.revision
        unknown = set(styles or ()) - set(self.model.styles)
        if unknown:
            raise ValueError(f"styles {sorted(unknown)} are not the model's {self.model.styles}")
        self.styles = tuple(styles) if styles else self.model.styles
        self.kw = {"num_beams": num_beams, "max_attribute_tokens": max_attribute_tokens,
                   "max_caption_tokens": max_caption_tokens, "length_penalty": length_penalty}

    def prepare(self, record: PersonRecord, image: bytes | None) -> torch.Tensor:
        from plip.transforms import preprocess

        return preprocess(image, self.model.cfg.image_size)  # ValueError when the bytes are not an image

    def run(self, records: Sequence[PersonRecord], prepared: Sequence[torch.Tensor]) -> list[CaptionOutput]:
        preds = predict(self.model, self.tokenizer, torch.stack(list(prepared)), styles=self.styles, **self.kw)
        return [CaptionOutput(attributes=p.attributes, captions=[(s, p.captions[s]) for s in self.styles])
                for p in preds]
