"""Attributes -> prompt caption: fill a template of a style's library (METHOD.md §1.6), with spans.

The template is drawn (seeded, weighted by its corpus count) among those of the right gender form whose needed
slots are all known, preferring the ones that cover the most known slots; known slots the template lacks are
added with the library's appendix clauses, so every known attribute is named and unknown ones drop out.
Filling fixes articles (a/an; none before plurals and "hair"; "a pair of" only before plurals), adds an
article before a bare singular noun, makes "is/are" agree with the phrase, and turns pronoun placeholders
into he/his/him or she/her/her. A slot value with several phrases ("black jacket and white t-shirt") is
written as a coordination with an article per phrase.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from spac.attributes import GENDERS, PERSON, PHRASE_SLOTS, lexicon
from spac.records import Attributes, PromptCaption, Span
from spac.text.phrases import analyse
from spac.text.templates import PLACEHOLDER, Library, Template, TemplateError, available_styles, load_library

__all__ = ["render_prompt", "render_template", "available_styles", "choose_template", "canonical_gender"]

_PRONOUNS = {
    "man": {"he": "he", "He": "He", "his": "his", "His": "His", "him": "him", "Him": "Him", "himself": "himself"},
    "woman": {"he": "she", "He": "She", "his": "her", "His": "Her", "him": "her", "Him": "Her", "himself": "herself"},
}
_DETERMINERS = frozenset(
    "the his her their its this that these those my your our one some two any no all both each "
    "every another other".split()
)
_SUBJECT_DETERMINERS = frozenset(("the", "his", "her", "their", "its"))
_ARTICLE = re.compile(r"(?:^|(?<=\s))([Aa]n?) $")
_PAIR = re.compile(r"(?:^|(?<=\s))([Aa]) pairs? of $")
_VERB = re.compile(r"^ (is|are|was|were)\b")
_AGREE = {("is", True): "are", ("are", False): "is", ("was", True): "were", ("were", False): "was"}


@dataclass(frozen=True, slots=True)
class _Part:
    text: str
    plural: bool  # plural or mass noun: no indefinite article
    plural_verb: bool = False  # takes "are" (plural count noun; "hair" is mass and takes "is")


@lru_cache(maxsize=4096)
def _parts(value: str) -> tuple[_Part, ...]:
    """Split a slot value into its phrases (as the extractor sees them) with their number."""
    phrases = analyse(value).phrases
    texts = [value[p.start : p.end] for p in phrases]
    if phrases and " and ".join(texts) == value:
        return tuple(
            _Part(t, p.noun.plural or p.noun.mass, p.noun.plural) for t, p in zip(texts, phrases, strict=True)
        )
    last = value.split()[-1].lower() if value.split() else ""
    entry = lexicon().noun(last)
    plural = bool(entry and entry.plural) or (last.endswith("s") and entry is None)
    return (_Part(value, plural or bool(entry and entry.mass), plural),)


def canonical_gender(value: str | None) -> str | None:
    """``"man"``/``"woman"`` for any lexicon person word of that gender ("lady" -> "woman"), else None."""
    if not value:
        return None
    for _tokens, entry in lexicon().lookup.get(value.strip().lower(), ()):
        if entry.kind == PERSON and entry.gender in GENDERS:
            return entry.gender
    return None


def _an(word: str) -> str:
    w = word.lower()
    return "an" if w[:1] in "aeiou" and not w.startswith(("uni", "use", "one", "eu")) else "a"


def choose_template(library: Library, known: frozenset[str], gendered: bool, rng: random.Random) -> Template:
    cands = [t for t in library.templates if t.gendered == gendered and set(t.slots) <= known]
    if not cands:
        if library.style != "default":
            return choose_template(load_library("default"), known, gendered, rng)
        raise TemplateError(
            f"template library {library.style!r} has no {'gendered' if gendered else 'neutral'} "
            f"template for slots {sorted(known)}"
        )
    # Best coverage first; templates one slot short (the appendix names the rest) add variety at lower weight.
    best = max(len(t.slots) for t in cands)
    cands = [t for t in cands if len(t.slots) >= best - 1 and (t.slots or not best)]
    weights = [t.count * (4 if len(t.slots) == best else 1) for t in cands]
    return rng.choices(cands, weights=weights, k=1)[0]


def render_prompt(attributes: Attributes, *, style: str = "default", seed: int) -> PromptCaption:
    """The prompt caption of ``attributes`` from the ``style`` library; deterministic for a seed."""
    library = load_library(style)
    rng = random.Random(seed)
    gender = canonical_gender(attributes.gender)
    known = frozenset(s for s in PHRASE_SLOTS if getattr(attributes, s))
    template = choose_template(library, known, gender is not None, rng)
    form = "gendered" if gender is not None else "neutral"
    appendix = library.appendix.get(form) or load_library("default").appendix.get(form, {})
    extra = [rng.choice(appendix[s]) for s in PHRASE_SLOTS if s in known and s not in template.slots]
    text, spans = render_template(" ".join((template.text, *extra)), attributes, gender=gender)
    return PromptCaption(text=text, template_id=template.id, spans=spans)


def render_template(
    template: str, attributes: Attributes, *, gender: str | None = None
) -> tuple[str, tuple[Span, ...]]:
    """Fill one template text with ``attributes``; returns the text and the spans of the filled phrases."""
    gender = gender if gender is not None else canonical_gender(attributes.gender)
    out = ""
    spans: list[Span] = []
    pos = 0
    after_value: tuple[_Part, ...] | None = None
    for m in PLACEHOLDER.finditer(template):
        out += _agree(template[pos : m.start()], after_value)
        after_value = None
        name = m.group(1)
        pos = m.end()
        if name == "gender":
            word = gender or "person"
            start = len(out)
            out += word
            if gender:
                spans.append(Span(slot="gender", start=start, end=len(out)))
            continue
        if name not in PHRASE_SLOTS:  # pronoun
            out += _PRONOUNS.get(gender or "man")[name]
            continue
        value = getattr(attributes, name)
        if value is None:
            raise TemplateError(f"template needs {{{name}}} but the attribute is unknown: {template!r}")
        parts = _parts(value)
        prev = out.rstrip().rsplit(None, 1)[-1].lower() if out.strip() else ""
        out = _fix_article(out, parts[0])
        for k, part in enumerate(parts):
            if k:
                out += " and " + ("" if part.plural else _an(part.text) + " ")
            start = len(out)
            out += part.text
            spans.append(Span(slot=name, start=start, end=len(out)))
        after_value = parts if prev in _SUBJECT_DETERMINERS else None  # "his jeans are", not "with hair are"
    out += _agree(template[pos:], after_value)
    if out[:1].islower():
        out = out[0].upper() + out[1:]
    return out, tuple(spans)


def _fix_article(out: str, part: _Part) -> str:
    """Article before a phrase: keep/adjust "a"/"an", drop it before plurals, add one before a bare singular."""
    pair = _PAIR.search(out)
    if pair:
        if part.plural:
            return out
        return out[: pair.start(1)] + _case(_an(part.text), pair.group(1)) + " "
    art = _ARTICLE.search(out)
    if art:
        head = out[: art.start(1)]
        if part.plural:
            return head if head else ""
        return head + _case(_an(part.text), art.group(1)) + " "
    prev = out.rstrip().rsplit(None, 1)[-1].lower() if out.strip() else ""
    if part.plural or prev in _DETERMINERS or not prev or prev.endswith("'s"):
        return out
    return out + _an(part.text) + " "


def _case(article: str, like: str) -> str:
    return article.capitalize() if like[:1].isupper() else article


def _agree(literal: str, value: tuple[_Part, ...] | None) -> str:
    if value is None:
        return literal
    m = _VERB.match(literal)
    if not m:
        return literal
    plural = len(value) > 1 or value[0].plural_verb
    verb = _AGREE.get((m.group(1), plural))
    return literal if verb is None else " " + verb + literal[m.end() :]
