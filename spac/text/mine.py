"""Template mining: human captions -> a deduplicated, filtered template library of one style (METHOD.md §1.6).

Each caption is normalised (whitespace, ALL-CAPS, final full stop), its attribute phrases become slot
placeholders, its gendered person words ``{gender}`` and its pronouns ``{he}``/``{his}``/``{him}`` (so one
template serves both genders). A caption is kept as a template only if it is well formed:

- one gender (no "he ... she"), no plural person ("two women"), at most one phrase per slot;
- 6-60 words, plain ASCII punctuation, balanced brackets/quotes, no repeated punctuation, sentences that start
  with a capital;
- every word is frequent in the corpus (>= ``min_word_count``): rare words are mostly typos;
- no colour word outside a phrase ("his shirt is black" would contradict the filled attributes), no two
  placeholders side by side, no sentence that starts with a phrase;
- at least ``min_slots`` placeholders among gender and the phrase slots;
- rendering it with probe attributes extracts exactly those attributes back (round trip).

Templates are counted and sorted by (gender form, slots, -count, text); ids hash the text, so mining the same
corpus always writes the same file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from spac.attributes import COLOUR, PHRASE_SLOTS, SHADE, SUFFIX, lexicon
from spac.records import Attributes
from spac.text.extract import attributes_from_analysis
from spac.text.phrases import analyse
from spac.text.render import render_template
from spac.text.templates import VERSION, Library, Template

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_ALLOWED = re.compile(r"^[A-Za-z0-9 .,;:'\"!?()\-/&{}]+$")
_OBJECT_CONTEXT = frozenset(". , ; : ! ? ) and or but to in on at by with from as while".split())
_PLURAL_PERSONS = frozenset("men women boys girls ladies guys gentlemen males females people persons".split())
# Probe values used to check that a template round-trips; two sets so number agreement is exercised.
_PROBES = (
    {
        "head": "long brown hair",
        "upper": "white t-shirt",
        "lower": "blue jeans",
        "shoes": "black sneakers",
        "belongings": "red backpack",
    },
    {
        "head": "black hat",
        "upper": "orange jacket",
        "lower": "gray skirt",
        "shoes": "brown boots",
        "belongings": "umbrella",
    },
    {"head": "hair", "upper": "shirt", "lower": "pants", "shoes": "sneakers", "belongings": "bag"},  # bare nouns
)


@dataclass(frozen=True)
class MineConfig:
    min_slots: int = 2
    """Placeholders a template needs (gender counts as one)."""
    min_words: int = 6
    max_words: int = 60
    min_word_count: int = 2
    """A word must occur this often in the corpus (0 disables the rare-word filter)."""
    slot_nouns: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("head", ("hair",)),
        (
            "belongings",
            (
                "backpack",
                "bag",
                "handbag",
                "purse",
                "shoulder bag",
                "messenger bag",
                "tote bag",
                "briefcase",
                "suitcase",
                "satchel",
                "plastic bag",
                "shopping bag",
                "paper bag",
            ),
        ),
    )
    """Slots whose mined phrase must have one of these head nouns: the sentence around a placeholder fits the
    kind of thing it was mined from ("on {his} face" suits glasses, not the hair a record's head slot names)."""


def normalise(text: str) -> str:
    text = " ".join(text.split())
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        text = text.lower()
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    if text and text[-1].isalnum():
        text += "."
    return text[:1].upper() + text[1:]


def template_of(text: str, *, vocab: Counter | None = None, cfg: MineConfig = MineConfig()) -> tuple[str | None, str]:
    """The template of one caption and ``"ok"``, or ``None`` and the reason it was rejected."""
    text = normalise(text)
    if not text:
        return None, "empty_caption"
    if not _ALLOWED.match(text) or "{" in text or "}" in text:
        return None, "characters"
    words = _WORD.findall(text)
    if not cfg.min_words <= len(words) <= cfg.max_words:
        return None, "length"
    if re.search(r"[.,;:!?]{2,}|[.,;:!?][A-Za-z]", text) or text.count("(") != text.count(")") or text.count('"') % 2:
        return None, "punctuation"
    if re.search(r"[.!?] [a-z]", text):
        return None, "sentence_case"
    if vocab is not None and cfg.min_word_count and any(vocab[w.lower()] < cfg.min_word_count for w in words):
        return None, "rare_word"
    a = analyse(text)
    slots = [p.slot for p in a.phrases]
    if len(slots) != len(set(slots)):
        return None, "repeated_slot"
    allowed = dict(cfg.slot_nouns)
    if any(p.slot in allowed and p.noun.canonical not in allowed[p.slot] for p in a.phrases):
        return None, "unusual_slot_noun"
    genders = {m.gender for m in a.mentions if m.gender}
    if len(genders) > 1:
        return None, "mixed_gender"
    if any(m.word in _PLURAL_PERSONS for m in a.mentions):
        return None, "plural_person"
    if any(m.word == "hers" for m in a.mentions):  # no he-form counterpart that fits every sentence
        return None, "unsupported_pronoun"
    cuts: list[tuple[int, int, str]] = [(p.start, p.end, "{" + p.slot + "}") for p in a.phrases]
    for m in a.mentions:
        if m.kind == "person" and m.gender:
            cuts.append((m.start, m.end, "{gender}"))
        elif m.kind == "pronoun":
            cuts.append((m.start, m.end, _pronoun(text, m.start, m.end, m.word)))
    out, pos = [], 0
    for start, end, repl in sorted(cuts):
        out += [text[pos:start], repl]
        pos = end
    template = "".join(out) + text[pos:]
    if len(a.phrases) + bool(genders) < cfg.min_slots:
        return None, "too_few_slots"
    if re.search(r"\{gender\}\s*\{gender\}|\{gender\} (?:person|pedestrian|individual)\b", template):
        return None, "adjectival_gender"
    if re.search(r"\{(?:head|upper|lower|shoes|belongings)\}\s+\{(?:head|upper|lower|shoes|belongings)\}", template):
        return None, "adjacent_slots"
    if template.startswith("{") and not template.startswith(("{He}", "{His}")):
        return None, "sentence_start"
    stray = analyse(re.sub(r"\{\w+\}", "x", template))
    if stray.phrases or any(m.gender for m in stray.mentions) or _has_colour(template):
        return None, "stray_attribute_word"
    if not _round_trips(template, bool(genders)):
        return None, "round_trip"
    return template, "ok"


def _pronoun(text: str, start: int, end: int, word: str) -> str:
    base = {"he": "he", "she": "he", "his": "his", "him": "him", "himself": "himself", "herself": "himself"}.get(word)
    if word == "her":
        nxt = text[end:].lstrip()
        token = _WORD.match(nxt)
        base = (
            "him" if not nxt or nxt[0] in ".,;:!?)" or (token and token.group().lower() in _OBJECT_CONTEXT) else "his"
        )
    name = base or word
    return "{" + (name.capitalize() if text[start].isupper() and name in ("he", "his", "him") else name) + "}"


def _has_colour(template: str) -> bool:
    lookup = lexicon().lookup
    for w in _WORD.findall(re.sub(r"\{\w+\}", " ", template)):
        for _seq, entry in lookup.get(w.lower(), ()):
            if entry.kind in (COLOUR, SHADE, SUFFIX) and len(_seq) == 1:
                return True
    return False


def _round_trips(template: str, gendered: bool) -> bool:
    for k, probe in enumerate(_PROBES):
        gender = ("man", "woman")[k % 2] if gendered else None
        attrs = Attributes(gender=gender, **{s: probe[s] for s in PHRASE_SLOTS if "{" + s + "}" in template})
        text, _ = render_template(template, attrs, gender=gender)
        if attributes_from_analysis(analyse(text)) != attrs:
            return False
    return True


def mine_templates(
    captions: Iterable[str],
    *,
    style: str,
    cfg: MineConfig = MineConfig(),
    source: dict | None = None,
    progress: Callable[[int], None] | None = None,
    reasons: list[str] | None = None,
) -> tuple[Library, Counter]:
    """Mine ``captions`` into a library of ``style``; returns it and the outcome counts (``ok`` + reject reasons).

    ``reasons``, when given, receives each caption's outcome in order (for a per-caption ledger).
    """
    captions = list(captions)
    vocab = Counter(w.lower() for c in captions for w in _WORD.findall(normalise(c)))
    counts: Counter = Counter()
    first_form: dict[str, str] = {}
    outcome: Counter = Counter()
    for i, caption in enumerate(captions):
        template, reason = template_of(caption, vocab=vocab, cfg=cfg)
        outcome[reason] += 1
        if reasons is not None:
            reasons.append(reason)
        if template is not None:
            key = template.lower()
            first_form.setdefault(key, template)
            counts[key] += 1
        if progress is not None and (i + 1) % 256 == 0:
            progress(256)
    if progress is not None:
        progress(len(captions) % 256)
    templates = [Template.from_text(first_form[k], style=style, count=n) for k, n in counts.items()]
    templates.sort(key=lambda t: (not t.gendered, [PHRASE_SLOTS.index(s) for s in t.slots], -t.count, t.text))
    meta = {
        **(source or {}),
        "n_captions": len(captions),
        "outcomes": dict(sorted(outcome.items())),
        "config": cfg.__dict__ if hasattr(cfg, "__dict__") else {},
        "version": VERSION,
    }
    return Library(style=style, templates=tuple(templates), source=meta), outcome
