"""The ``template`` back-end: no model; one caption per style rendered from the record's known attributes.

For sources that carry attributes (``demo``, attribute-annotated datasets) or with ``attributes=`` (a JSONL of
``{"source_ref", "attributes"}`` lines); each caption is ``render_prompt(attributes, style=s, seed=...)`` with a
seed derived from ``(seed, source_ref, style)``, so reruns are identical.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from spac.captioner.backends import CaptionOutput, register_backend
from spac.records import Attributes, PersonRecord

VERSION = "template/1"


def style_name(template_style: str) -> str:
    """The style a template library teaches: its name, or the file stem of a library given as a ``.json`` path."""
    return Path(template_style).stem if template_style.endswith(".json") else template_style


def _seed(seed: int, ref: str, style: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{ref}/{style}".encode()).digest()[:4], "big")


@register_backend("template")
class TemplateBackend:
    """Options: ``styles`` (template style names or library ``.json`` paths; default: every available one),
    ``seed``, ``attributes`` (JSONL)."""

    name = "template"
    needs_images = False

    def __init__(self, *, styles: Sequence[str] | None = None, seed: int = 0, attributes: str | None = None) -> None:
        from spac.text.render import available_styles

        known = available_styles()
        self.styles = tuple(styles) if styles else tuple(known)
        unknown = {s for s in self.styles if s not in known and not (s.endswith(".json") and Path(s).is_file())}
        if unknown:
            raise ValueError(f"template back-end: unknown style(s) {sorted(unknown)}; available: {known}")
        self.seed = seed
        self.revision = f"{VERSION}:{','.join(self.styles)}"
        self.table = _read_attributes(Path(attributes)) if attributes else {}

    def prepare(self, record: PersonRecord, image: bytes | None) -> Attributes:
        return self.table.get(record.source_ref, record.attributes)

    def run(self, records: Sequence[PersonRecord], prepared: Sequence[Attributes]) -> list[CaptionOutput]:
        from spac.text.render import render_prompt

        outputs = []
        for record, attrs in zip(records, prepared, strict=True):
            captions = []
            if attrs.known():
                captions = [(style_name(s), render_prompt(attrs, style=s, seed=_seed(self.seed, record.source_ref,
                                                                                     style_name(s))).text)
                            for s in self.styles]
            outputs.append(CaptionOutput(attributes=attrs, captions=captions))
        return outputs


def _read_attributes(path: Path) -> dict[str, Attributes]:
    table = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                table[obj["source_ref"]] = Attributes.from_dict(
                    {k: (None if v in ("", "unknown") else v) for k, v in obj["attributes"].items()})
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(f"{path}:{n}: not an attribute line ({err})") from None
    return table
