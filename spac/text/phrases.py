"""Caption -> attribute phrases: tokenise with exact character offsets, match the lexicon, group modifier runs.

An attribute phrase is a run of modifiers (colours, shades, "-colored" suffixes, descriptors such as "short" or
"denim", at most two unlisted adjectives) that ends in a garment/hair/footwear/carried-item noun; the noun decides
the slot. Determiners and possessives stay outside the phrase ("his dark blue jacket" -> "dark blue jacket").
Colours coordinated with "and"/"or"/"/" stay in one phrase ("black and white shoes"), as do modifiers separated
by commas ("a pink, short-sleeved top"); a conjunction after a noun starts a new phrase ("a black jacket and
white shoes"). Hyphens join modifiers ("light-colored", "short-sleeved"). A bare noun followed by "is/are" and
colours takes the colours into its value ("his shoes are gray and white" -> shoes "gray and white shoes"; the
colours get a span of their own). Person words and pronouns vote for the gender.

This is a hand-written matcher over a compiled token trie rather than a spaCy ``Matcher``: the blank English
pipeline has no tagger, so spaCy would only contribute tokenisation; importing spaCy costs ~3 s and pulls in
torch (through thinc), which ``spac`` must not import; and this path keeps exact offsets and runs several times
faster (``benchmarks/extraction_speed.py``). The lexicon's function words (spaCy's English stop-word list,
copied as data) decide which unlisted words may sit inside a phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spac.attributes import COLOUR, DESCRIPTOR, NOUN, PERSON, PRONOUN, SHADE, SUFFIX, Entry, Lexicon, lexicon

_TOKEN = re.compile(r"[^\W\d_]+|\d+|\S")
_MODIFIERS = frozenset((COLOUR, SHADE, SUFFIX, DESCRIPTOR))
_COLOURISH = frozenset((COLOUR, SHADE, SUFFIX))
HYPH, CONJ, COMMA, SOFT, HARD = "hyph", "conj", "comma", "soft", "hard"
_CONJ = {"and": "and", "or": "or", "&": "and", "/": "/", "n": "and"}
_MAX_SOFT = 2


@dataclass(frozen=True, slots=True)
class Phrase:
    """One attribute phrase: slot, ``[start, end)`` in the text, canonical value, head noun and its colours."""

    slot: str
    start: int
    end: int
    value: str
    noun: Entry
    colours: tuple[str, ...]
    predicate: tuple[int, int] | None = None  # "[shoes] are [gray and white]": offsets of the predicate colours


@dataclass(frozen=True, slots=True)
class Mention:
    """A gendered person word or pronoun (gender "man"/"woman"; "" for neutral person words)."""

    kind: str  # "person" or "pronoun"
    word: str
    gender: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Analysis:
    phrases: tuple[Phrase, ...]
    mentions: tuple[Mention, ...]

    @property
    def gender(self) -> str | None:
        return decide_gender(self.mentions)


def decide_gender(mentions: tuple[Mention, ...]) -> str | None:
    """Gender by votes: person nouns count 2, pronouns 1; a tie leaves the gender unknown."""
    votes = {"man": 0, "woman": 0}
    for m in mentions:
        if m.gender:
            votes[m.gender] += 2 if m.kind == PERSON else 1
    if votes["man"] == votes["woman"]:
        return None
    return "man" if votes["man"] > votes["woman"] else "woman"


def _items(text: str, lex: Lexicon) -> list[tuple]:
    """``(kind, entry_or_canon, start, end)`` per matched unit; multi-token lexicon entries are one unit."""
    low = text.lower()
    if len(low) != len(text):  # a few non-ASCII letters change length when lowered; keep offsets exact
        toks = [(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    else:
        toks = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(low)]
    out: list[tuple] = []
    i, n = 0, len(toks)
    lookup = lex.lookup
    breakers = lex.breakers
    while i < n:
        word, start, end = toks[i]
        matched = 0
        for seq, entry in lookup.get(word, ()):
            k = len(seq)
            if k == 1 or (
                i + k <= n and all(toks[i + j][0] == seq[j] for j in range(1, k)) and _contiguous(toks, i, k)
            ):
                out.append((entry.kind, entry, start, toks[i + k - 1][2]))
                matched = k
                break
        if matched:
            i += matched
            continue
        if word == "-":
            out.append((HYPH, "-", start, end))
        elif word in _CONJ:
            out.append((CONJ, _CONJ[word], start, end))
        elif word == ",":
            out.append((COMMA, ",", start, end))
        elif word.isalpha() and len(word) > 1 and word not in breakers and not word.endswith("ing"):
            out.append((SOFT, word, start, end))
        else:
            out.append((HARD, word, start, end))
        i += 1
    return out


def _contiguous(toks: list, i: int, k: int) -> bool:
    """Multi-token entries must not span a sentence break or a comma (tokens are whatever lies between)."""
    return all(toks[i + j][1] - toks[i + j - 1][2] <= 1 for j in range(1, k))


def analyse(text: str, lex: Lexicon | None = None) -> Analysis:
    """All attribute phrases and gender mentions of ``text``, in order of appearance."""
    lex = lex or lexicon()
    items = _items(text, lex)
    phrases: list[Phrase] = []
    mentions: list[Mention] = []
    run: int | None = None
    soft = 0
    n = len(items)
    for j, (kind, val, start, end) in enumerate(items):
        if kind in _MODIFIERS:
            if run is None:
                run, soft = j, 0
        elif kind == NOUN:
            nxt = items[j + 1] if j + 1 < n else None
            if (
                nxt is not None
                and nxt[0] == HYPH
                and j + 2 < n
                and items[j + 2][0] == NOUN
                and nxt[2] == end
                and items[j + 2][2] == nxt[3]
            ):  # "t-shirt-dress": the last noun is the head
                nxt = items[j + 2]
            if nxt is not None and nxt[0] == NOUN and nxt[2] - end <= 1:  # noun used as modifier: "jean jacket"
                if run is None:
                    run, soft = j, 0
                continue
            if nxt is not None and isinstance(nxt[1], str) and nxt[1] in val.not_before:
                run = None
                continue
            phrase = _phrase(text, items, j if run is None else run, j)
            phrases.append(_with_predicate(text, items, j, phrase) if run is None else phrase)
            run = None
        elif kind == HYPH:
            if run is not None and not _joins(items, j, (*_MODIFIERS, NOUN, SOFT)):
                run = None
        elif kind == CONJ:  # "black and white shoes": only colours coordinate inside a phrase
            if run is not None and not (items[j - 1][0] in _COLOURISH and _next_is_colour(items, j)):
                run = None
        elif kind == COMMA:  # "a pink, short-sleeved top": a comma may separate modifiers
            if run is not None and not (items[j - 1][0] in _MODIFIERS and j + 1 < n and items[j + 1][0] in _MODIFIERS):
                run = None
        elif kind == SOFT:
            if run is not None:
                soft += 1
                if soft > _MAX_SOFT:
                    run = None
        else:
            if kind in (PERSON, PRONOUN):
                mentions.append(Mention(kind, text[start:end].lower(), val.gender, start, end))
            run = None
    return Analysis(tuple(phrases), tuple(mentions))


def _joins(items: list[tuple], j: int, kinds: tuple[str, ...]) -> bool:
    """A hyphen inside a phrase touches both neighbours and leads to a modifier or noun."""
    if j + 1 >= len(items):
        return False
    prev, nxt = items[j - 1], items[j + 1]
    return prev[3] == items[j][2] and nxt[2] == items[j][3] and nxt[0] in kinds


def _next_is_colour(items: list[tuple], j: int) -> bool:
    k = j + 1
    if k < len(items) and items[k][0] == SHADE:
        k += 1
        if k < len(items) and items[k][0] == HYPH:
            k += 1
    return k < len(items) and items[k][0] in (COLOUR, SHADE)


_COPULA = frozenset(("is", "are", "was", "were"))


def _with_predicate(text: str, items: list[tuple], j: int, phrase: Phrase) -> Phrase:
    """A bare noun with predicate colours ("his shoes are gray and white") takes them into its value."""
    k = j + 2
    if k >= len(items) or items[j + 1][0] != HARD or items[j + 1][1] not in _COPULA:
        return phrase
    last = None
    while k < len(items):
        kind = items[k][0]
        if kind in _COLOURISH:
            last = k
        elif not (
            (kind == HYPH and _joins(items, k, tuple(_COLOURISH)))
            or (kind == CONJ and last is not None and _next_is_colour(items, k))
        ):
            break
        k += 1
    # The clause must end after the colours (else they start a phrase of their own: "shoes are black high-heels").
    if last is None or (k < len(items) and items[k][0] in (*_MODIFIERS, NOUN, SOFT) and last == k - 1):
        return phrase
    colours, pred_colours = _render(text, items, j + 2, last, head=None)
    return Phrase(
        phrase.slot,
        phrase.start,
        phrase.end,
        f"{colours} {phrase.value}",
        phrase.noun,
        pred_colours + phrase.colours,
        (items[j + 2][2], items[last][3]),
    )


def _phrase(text: str, items: list[tuple], first: int, last: int) -> Phrase:
    # Trailing/leading soft words and connectors never start a phrase.
    while first < last and items[first][0] in (SOFT, HYPH, CONJ, COMMA):
        first += 1
    value, colours = _render(text, items, first, last, head=last)
    noun = items[last][1]
    return Phrase(noun.slot, items[first][2], items[last][3], value, noun, colours)


def _render(text: str, items: list[tuple], first: int, last: int, *, head: int | None) -> tuple[str, tuple[str, ...]]:
    """Canonical text of ``items[first..last]`` and the colours in it."""
    parts: list[str] = []
    colours: list[str] = []
    prev_end = None
    for idx in range(first, last + 1):
        kind, val, start, end = items[idx]
        if kind == COMMA:
            continue
        if isinstance(val, Entry):  # a noun before the head noun is a modifier and keeps its form: "jean jacket"
            word = val.canonical if kind != NOUN or idx == head else text[start:end].lower()
        else:
            word = val
        if kind == COLOUR:
            colours.append(word)
        if prev_end is not None:
            tight = start == prev_end and (kind == HYPH or parts[-1] == "-" or word == "/" or parts[-1] == "/")
            if not tight:
                parts.append(" ")
        parts.append(word)
        prev_end = end
    return "".join(parts), tuple(colours)
