"""Text of a record: attribute spans for every caption and the prompt caption rendered from the attributes.

Spans come from ``spac.text.extract.extract_spans`` (character offsets of attribute phrases, used by IAP
masking); the prompt caption from ``spac.text.render.render_prompt`` with a per-record seed derived from the run
seed and the record's ``source_ref``, so a record gets the same template whichever worker renders it. A record
left with no text at all is dropped (``no_text``): training needs at least one caption per image.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from spac.records import PersonRecord
from spac.steps.base import Drop, RecordStep, StepContext, stable_seed


@dataclass(frozen=True, kw_only=True)
class TextConfig:
    spans: bool = True
    """Fill ``spans`` of captions that have none with ``extract_spans``."""
    prompt: bool = True
    """Render a prompt caption from the attributes (METHOD.md §1.6)."""
    prompt_style: str = "default"
    """Template library passed to ``render_prompt`` (see ``spac.text.render.available_styles()``)."""


class Text(RecordStep):
    name = "text"

    def __init__(self, cfg: TextConfig) -> None:
        self.cfg = cfg

    def apply(self, record: PersonRecord, ctx: StepContext) -> PersonRecord | Drop:
        captions = record.captions
        if self.cfg.spans:
            from spac.text.extract import extract_spans

            captions = tuple(c if c.spans else dataclasses.replace(c, spans=tuple(extract_spans(c.text)))
                             for c in captions)
        prompt = record.prompt_caption
        if self.cfg.prompt and prompt is None and record.attributes.known():
            from spac.text.render import render_prompt

            seed = stable_seed(ctx.seed, "prompt", record.source, record.source_ref)
            prompt = render_prompt(record.attributes, style=self.cfg.prompt_style, seed=seed)
        if not captions and prompt is None:
            return Drop("no_text", "no caption and no prompt caption (attributes unknown or prompt off)")
        return dataclasses.replace(record, captions=captions, prompt_caption=prompt)
