"""The ``hf`` back-end: any transformers image-to-text model (BLIP, GIT, ...) loaded from a local folder.

Captions are decoded with the prompt stripped (BLIP's ``generate`` returns prompt + continuation, INFRA.md §6);
one prompt per style (``prompts={"style": "a picture of"}``, default one style ``hf`` with no prompt), every
batch uses one identical prompt per style (right padding would otherwise shift the continuation). Attributes
are what ``spac.text.extract`` finds in the captions (first caption naming a slot wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from spac.captioner.backends import CaptionOutput, register_backend
from spac.records import Attributes, PersonRecord


def strip_prompt(text: str, prompt: str) -> str:
    """``text`` without a leading ``prompt`` (case- and whitespace-insensitive, as tokenizers normalise)."""
    text = " ".join(text.split())
    want = " ".join(prompt.split()).lower()
    if want and text.lower().startswith(want):
        text = text[len(want):]
    return text.strip(" ,.:;") if want else text.strip()


@register_backend("hf")
class HfBackend:
    """Options: ``model`` (local folder with model + processor), ``prompts`` (style -> prompt),
    ``max_new_tokens``, ``num_beams``, ``device``."""

    name = "hf"
    needs_images = True

    def __init__(self, *, model: str, prompts: Mapping[str, str] | None = None, max_new_tokens: int = 40,
                 num_beams: int = 3, device: str | None = None) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        path = Path(model)
        if not path.is_dir():
            raise ValueError(f"hf back-end: model folder {path} does not exist (give a local folder)")
        self.processor = AutoProcessor.from_pretrained(str(path))
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModelForImageTextToText.from_pretrained(str(path)).to(self.device).eval()
        self.revision = getattr(self.model.config, "_commit_hash", None) or _weights_revision(path)
        self.prompts = dict(prompts or {"hf": ""})
        self.gen = {"max_new_tokens": max_new_tokens, "num_beams": num_beams}

    def prepare(self, record: PersonRecord, image: bytes | None):
        from plip.transforms import load_rgb

        return load_rgb(image)  # ValueError for unreadable bytes; resizing is the processor's

    @torch.inference_mode()
    def run(self, records: Sequence[PersonRecord], prepared: Sequence) -> list[CaptionOutput]:
        from spac.text.extract import extract_attributes

        per_style: dict[str, list[str]] = {}
        for style, prompt in self.prompts.items():
            kw = {"text": [prompt] * len(prepared)} if prompt else {}
            inputs = self.processor(images=list(prepared), return_tensors="pt", **kw).to(self.device)
            out = self.model.generate(**inputs, **self.gen)
            texts = self.processor.batch_decode(out, skip_special_tokens=True)
            per_style[style] = [strip_prompt(t, prompt) for t in texts]
        outputs = []
        for i in range(len(prepared)):
            captions = [(style, texts[i]) for style, texts in per_style.items()]
            mined: dict[str, str] = {}
            for _, text in captions:
                for slot, value in extract_attributes(text).known().items():
                    mined.setdefault(slot, value)
            outputs.append(CaptionOutput(attributes=Attributes(**mined), captions=captions))
        return outputs


def _weights_revision(path: Path) -> str:
    from spac.captioner.checkpoint import file_revision

    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    return file_revision(weights[0]) if weights else "unknown"
