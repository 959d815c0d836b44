"""Template libraries: sentences with slot placeholders, one library (data file) per caption style.

A template is a caption whose attribute phrases are replaced by ``{head}``, ``{upper}``, ``{lower}``,
``{shoes}``, ``{belongings}``, whose gendered person word is ``{gender}`` and whose pronouns are ``{he}``,
``{He}``, ``{his}``, ``{His}``, ``{him}``, ``{Him}``, ``{himself}`` (rendered for the record's gender). A
*gendered* template needs a known gender; a *neutral* one names "a person" and no pronouns. ``slots`` lists the
phrase slots it needs; the renderer picks by gender form and slots (METHOD.md §1.6).

Library file (versioned JSON)::

    {"format": "spac-templates", "version": 1, "style": "cuhk", "source": {...}, "n_templates": int,
     "groups": {"gendered": {"head+upper+lower": n, ...}, "neutral": {...}},   # informative index
     "templates": [{"id", "text", "slots": [...], "gendered": bool, "count": int}, ...],
     "appendix": {"gendered": {slot: [clause, ...]}, "neutral": {...}}}

``appendix`` holds one-sentence clauses that name a slot a chosen template lacks; libraries without one borrow
the default library's. Shipped libraries live in ``spac/text/data/templates/<style>.json``; more are found in
the folders listed in ``$SPAC_TEMPLATES`` (``os.pathsep``-separated), and a style may also be a ``.json`` path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from spac.attributes import PHRASE_SLOTS
from spac.records import SLOTS

FORMAT = "spac-templates"
VERSION = 1
PRONOUNS = ("he", "He", "his", "His", "him", "Him", "himself")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NAMES = frozenset((*SLOTS, *PRONOUNS))


class TemplateError(ValueError):
    """A template library that cannot be read or does not follow the format (message names file and entry)."""


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    text: str
    slots: tuple[str, ...]
    gendered: bool
    count: int = 1

    @classmethod
    def from_text(cls, text: str, *, style: str, count: int = 1) -> Template:
        names = set(PLACEHOLDER.findall(text))
        unknown = names - _NAMES
        if unknown:
            raise TemplateError(f"template {text!r}: unknown placeholder(s) {sorted(unknown)}")
        slots = tuple(s for s in PHRASE_SLOTS if s in names)
        gendered = "gender" in names or bool(names & set(PRONOUNS))
        return cls(id=template_id(style, text), text=text, slots=slots, gendered=gendered, count=count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "slots": list(self.slots),
            "gendered": self.gendered,
            "count": self.count,
        }


def template_id(style: str, text: str) -> str:
    return f"{style}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class Library:
    style: str
    templates: tuple[Template, ...]
    appendix: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "style": self.style,
            "source": self.source,
            "n_templates": len(self.templates),
            "groups": self.groups(),
            "templates": [t.to_dict() for t in self.templates],
            "appendix": {form: {s: list(c) for s, c in clauses.items()} for form, clauses in self.appendix.items()},
        }

    def groups(self) -> dict[str, dict[str, int]]:
        """Template counts by gender form and needed slots ("gendered" -> "head+upper+lower" -> n); informative."""
        out: dict[str, dict[str, int]] = {}
        for t in self.templates:
            group = out.setdefault("gendered" if t.gendered else "neutral", {})
            key = "+".join(t.slots) or "-"
            group[key] = group.get(key, 0) + 1
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str) -> Library:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise TemplateError(f"{where}: not a template library (expected an object with format {FORMAT!r})")
        if data.get("version") != VERSION:
            raise TemplateError(f"{where}: library version {data.get('version')!r}, this spac reads {VERSION}")
        style = data.get("style")
        if not isinstance(style, str) or not style:
            raise TemplateError(f"{where}: 'style' must be a non-empty string")
        templates = []
        for i, t in enumerate(data.get("templates") or []):
            try:
                made = Template.from_text(t["text"], style=style, count=int(t.get("count", 1)))
            except (KeyError, TypeError, ValueError) as err:
                raise TemplateError(f"{where}: templates[{i}]: {err}") from None
            templates.append(
                Template(
                    id=t.get("id", made.id), text=made.text, slots=made.slots, gendered=made.gendered, count=made.count
                )
            )
        appendix = {
            form: {s: tuple(c) for s, c in clauses.items()} for form, clauses in (data.get("appendix") or {}).items()
        }
        return cls(style=style, templates=tuple(templates), appendix=appendix, source=data.get("source") or {})


def save_library(library: Library, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(library.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_library(path: str | Path) -> Library:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(f"{path}: template library not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TemplateError(f"{path}: cannot read template library ({err})") from None
    return Library.from_dict(data, where=str(path))


def _style_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    shipped = resources.files("spac.text") / "data" / "templates"
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            found[entry.name[:-5]] = Path(str(entry))
    for folder in filter(None, os.environ.get("SPAC_TEMPLATES", "").split(os.pathsep)):
        for path in sorted(Path(folder).glob("*.json")):
            found.setdefault(path.stem, path)
    return found


def available_styles() -> list[str]:
    """Names of the template libraries ``render_prompt(style=...)`` accepts (shipped + ``$SPAC_TEMPLATES``)."""
    return sorted(_style_files())


@lru_cache(maxsize=16)
def load_library(style: str) -> Library:
    """The library of a style name (see :func:`available_styles`) or of a ``.json`` file path."""
    if style.endswith(".json") and Path(style).is_file():
        return read_library(style)
    files = _style_files()
    if style not in files:
        raise TemplateError(
            f"unknown template style {style!r}; available: {sorted(files)} "
            "(add folders of libraries to $SPAC_TEMPLATES, or pass a .json path)"
        )
    return read_library(files[style])
