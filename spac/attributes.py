"""The attribute vocabulary of the six slots: what words name a colour, a garment of each slot, a person or a pronoun.

The data live in ``spac/text/data/lexicon.json`` (canonical spelling -> variants: plurals, British spellings,
typos that recur in human captions). :func:`lexicon` compiles it once into a token-sequence lookup that the
extractor (``spac.text.extract``), the renderer and the template miner share, so all three agree on what an
attribute phrase is. Dataset label vocabularies (PA-100K, PETA, RAP, Market-1501) map into the same slots in
``spac.attribute_labels``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from spac.records import SLOTS

__all__ = ["SLOTS", "GENDERS", "PHRASE_SLOTS", "Entry", "Lexicon", "lexicon", "LexiconError"]

GENDERS: tuple[str, ...] = ("man", "woman")
PHRASE_SLOTS: tuple[str, ...] = SLOTS[1:]  # slots filled by attribute phrases (gender comes from person words)

# Entry kinds.
COLOUR, SHADE, SUFFIX, DESCRIPTOR, NOUN, PERSON, PRONOUN = (
    "colour",
    "shade",
    "suffix",
    "descriptor",
    "noun",
    "person",
    "pronoun",
)


class LexiconError(ValueError):
    """The lexicon data file is malformed (names the file and the entry)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What a (possibly multi-token) word means: kind, canonical spelling and, for nouns/persons, slot/gender."""

    kind: str
    canonical: str
    slot: str | None = None  # noun: the slot it fills
    gender: str | None = None  # person/pronoun: "man", "woman" or "" (neutral person word)
    plural: bool = False
    mass: bool = False
    not_before: frozenset[str] = frozenset()


class Lexicon:
    """Compiled lexicon: ``lookup[first_token]`` lists ``(token_tuple, Entry)`` longest first."""

    def __init__(self, data: dict[str, Any], *, where: str = "lexicon") -> None:
        self.version = data.get("version")
        self.where = where
        self.lookup: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
        self.colours: dict[str, str] = {}  # any colour spelling -> canonical
        self.nouns: dict[str, dict[str, Entry]] = {slot: {} for slot in PHRASE_SLOTS}
        # Words that end a modifier run: function words plus verbs and prepositions of caption prose.
        self.breakers: frozenset[str] = frozenset((*data.get("breakers", ()), *data.get("function_words", ())))
        self.colour_families: dict[str, str] = dict(data.get("colour_families", {}))  # "navy" -> "blue"
        plural = set(data.get("plural_nouns", ()))
        mass = set(data.get("mass_nouns", ()))
        not_before = {k: frozenset(v) for k, v in data.get("not_before", {}).items()}
        try:
            for canon, variants in data["colours"].items():
                self._add_all(canon, variants, Entry(COLOUR, canon))
                for v in (canon, *variants):
                    self.colours[v] = canon
            for canon, variants in data["shades"].items():
                self._add_all(canon, variants, Entry(SHADE, canon))
            for canon, variants in data["colour_suffixes"].items():
                self._add_all(canon, variants, Entry(SUFFIX, canon))
            variants = data.get("descriptor_variants", {})
            for word in data["descriptors"]:
                self._add_all(word, variants.get(word, ()), Entry(DESCRIPTOR, word))
            for slot, nouns in data["nouns"].items():
                if slot not in PHRASE_SLOTS:
                    raise LexiconError(f"{where}: noun slot {slot!r} is not one of {PHRASE_SLOTS}")
                for canon, variants in nouns.items():
                    is_plural, is_mass = canon in plural, canon in mass
                    entry = Entry(
                        NOUN,
                        canon,
                        slot=slot,
                        plural=is_plural,
                        mass=is_mass,
                        not_before=not_before.get(canon, frozenset()),
                    )
                    self.nouns[slot][canon] = entry
                    auto = () if is_plural or is_mass or canon.endswith("s") else (_plural(canon),)
                    self._add_all(canon, (*variants, *auto), entry)
            for gender, words in data["persons"].items():
                for word in words:
                    self._add_all(word, (), Entry(PERSON, gender, gender=gender))
                if gender:
                    self._add_all(gender, (), Entry(PERSON, gender, gender=gender))
            for gender, words in data["pronouns"].items():
                for word in words:
                    self._add_all(word, (), Entry(PRONOUN, word, gender=gender))
        except (KeyError, TypeError, AttributeError) as err:
            raise LexiconError(f"{where}: malformed lexicon ({type(err).__name__}: {err})") from None
        for first in self.lookup:
            self.lookup[first].sort(key=lambda item: -len(item[0]))

    def _add_all(self, canon: str, variants: Any, entry: Entry) -> None:
        for surface in (canon, *variants):
            for tokens in _token_forms(surface):
                options = self.lookup.setdefault(tokens[0], [])
                if all(t != tokens for t, _ in options):  # first definition wins (nouns before typo reuse)
                    options.append((tokens, entry))

    def noun(self, text: str) -> Entry | None:
        """The noun entry whose canonical spelling is ``text`` (any slot), or None."""
        for nouns in self.nouns.values():
            if text in nouns:
                return nouns[text]
        return None


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _token_forms(surface: str) -> set[tuple[str, ...]]:
    """Token tuples a lexicon entry matches: "t-shirt" also as "t shirt" and "tshirt"; "tank top" as "tank-top"."""
    words = surface.lower().replace("-", " - ").split()
    parts = [w for w in words if w != "-"]
    forms = {tuple(words), tuple(parts)}
    if len(parts) > 1:
        forms.add(("".join(parts),))
        forms.add(tuple(" - ".join(parts).split()))
    return forms


def load_lexicon_data() -> dict[str, Any]:
    path = resources.files("spac.text") / "data" / "lexicon.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LexiconError(f"{path}: cannot read the lexicon ({err})") from None


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon, compiled once per process."""
    return Lexicon(load_lexicon_data(), where="spac/text/data/lexicon.json")
