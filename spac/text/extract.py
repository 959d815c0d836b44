"""Public extractor API: a caption's attribute phrases as spans, and its six-slot attribute set (METHOD.md §1.3).

``extract_spans`` gives every attribute phrase (and every gendered person word) with its slot and character
offsets -- what the attribute-prediction pretext task masks; predicate colours ("his shoes are *gray and
white*") get a span of their own in the noun's slot. ``extract_attributes`` folds them into
:class:`~spac.records.Attributes`: gender "man"/"woman" by vote of person words and pronouns, and per other slot
the canonical phrases in order of appearance, joined by " and " when a caption names several ("black jacket and
white t-shirt"; a bare noun also named with modifiers is left out). ``Attributes.to_string()`` (or
``extract_attribute_string``) gives the SYNTH-PEDES attribute string.
"""

from __future__ import annotations

from spac.records import Attributes, Span
from spac.text.phrases import Analysis, analyse

__all__ = [
    "extract_spans",
    "extract_attributes",
    "extract_attribute_string",
    "attributes_from_analysis",
    "analyse",
    "JOINER",
]

JOINER = " and "  # between several phrases of one slot


def extract_spans(text: str) -> tuple[Span, ...]:
    """Attribute phrases and gendered person words of ``text`` as spans, ordered by start offset."""
    a = analyse(text)
    spans = [Span(slot=p.slot, start=p.start, end=p.end) for p in a.phrases]
    spans += [Span(slot=p.slot, start=p.predicate[0], end=p.predicate[1]) for p in a.phrases if p.predicate]
    spans += [Span(slot="gender", start=m.start, end=m.end) for m in a.mentions if m.kind == "person" and m.gender]
    return tuple(sorted(spans, key=lambda s: (s.start, s.end)))


def extract_attributes(text: str) -> Attributes:
    """The six attribute slots named by ``text`` (``None`` where the text says nothing about a slot)."""
    return attributes_from_analysis(analyse(text))


def extract_attribute_string(text: str) -> str:
    """The SYNTH-PEDES attribute string of ``text``, e.g. ``"man,black hair,black shirt,unknown,unknown,unknown"``."""
    return extract_attributes(text).to_string()


def attributes_from_analysis(a: Analysis) -> Attributes:
    # A bare noun that the caption also names with modifiers adds nothing ("her shoes ... the shoes are gray").
    described = {(p.slot, p.noun.canonical) for p in a.phrases if p.value != p.noun.canonical}
    values: dict[str, list[str]] = {}
    for p in a.phrases:
        if p.value == p.noun.canonical and (p.slot, p.noun.canonical) in described:
            continue
        seen = values.setdefault(p.slot, [])
        if p.value not in seen:
            seen.append(p.value)
    return Attributes(gender=a.gender, **{slot: JOINER.join(v) for slot, v in values.items()})
