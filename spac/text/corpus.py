"""Caption corpora for mining and reports, read straight from their JSON files (no image access).

Layouts (FORMATS.md): CUHK-PEDES ``reid_raw.json``, ICFG-PEDES ``ICFG-PEDES.json``/``ICFG_PEDES.json``, RSTPReid
``data_captions.json`` (a JSON list of records with a ``captions`` list), SYNTH-PEDES ``synthpedes_dataset.json``
(same, ``prompt_caption`` is ignored: it is template output), and JSONL (one object per line with ``text``,
``caption`` or ``captions`` -- strings or ``{"text": ...}`` objects, as the captioner writes). A folder is read
through the annotation file it holds, or through all its ``*.jsonl`` parts in name order.

A file that is not UTF-8 or not one of these layouts raises :class:`CorpusError` naming the file and the
problem. Individual bad captions (empty, not a string, captioner error lines) do not stop a read: each becomes a
ledger entry ``(ref, reason)`` and is counted, so nothing is dropped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANNOTATION_FILES = (
    "reid_raw.json",
    "ICFG-PEDES.json",
    "ICFG_PEDES.json",
    "data_captions.json",
    "synthpedes_dataset.json",
)
LAYOUTS = "a JSON list of records with a 'captions' list (CUHK-PEDES/ICFG-PEDES/RSTPReid/SYNTH-PEDES) or JSONL lines"


class CorpusError(ValueError):
    """A corpus file that cannot be read as any supported layout."""


@dataclass
class Corpus:
    path: Path
    layout: str
    captions: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)  # where each caption came from ("<file>:<record>[:<k>]")
    ledger: list[tuple[str, str]] = field(default_factory=list)  # (ref, reason) of every caption left out

    @property
    def skipped(self) -> Counter:
        return Counter(reason for _, reason in self.ledger)

    def add(self, value: Any, ref: str) -> None:
        if isinstance(value, dict):
            value = value.get("text")
        if not isinstance(value, str):
            self.ledger.append((ref, "not_a_string"))
        elif not value.strip():
            self.ledger.append((ref, "empty_caption"))
        else:
            self.captions.append(value)
            self.refs.append(ref)


def read_corpus(path: str | Path) -> Corpus:
    """All captions of the corpus at ``path`` (file or folder), with a ledger of the ones left out."""
    path = Path(path)
    if path.is_dir():
        for name in ANNOTATION_FILES:
            if (path / name).is_file():
                return read_corpus(path / name)
        parts = sorted(path.glob("*.jsonl"))
        if not parts:
            raise CorpusError(
                f"{path}: no caption corpus here (expected one of {', '.join(ANNOTATION_FILES)} or *.jsonl parts)"
            )
        corpus = Corpus(path=path, layout="jsonl")
        for part in parts:
            _read_jsonl(part, corpus)
        return corpus
    if not path.is_file():
        raise CorpusError(f"{path}: corpus file not found")
    if path.suffix == ".jsonl":
        corpus = Corpus(path=path, layout="jsonl")
        _read_jsonl(path, corpus)
        return corpus
    data = _load_json(path)
    if not isinstance(data, list):
        raise CorpusError(f"{path}: wrong layout: top level is a JSON {type(data).__name__}; expected {LAYOUTS}")
    layout = "synth-pedes" if path.name == "synthpedes_dataset.json" else "reid-records"
    corpus = Corpus(path=path, layout=layout)
    for i, rec in enumerate(data):
        ref = f"{path.name}:{i}"
        if not isinstance(rec, dict) or "captions" not in rec:
            if i == 0:  # the first record decides the layout
                raise CorpusError(f"{path}: wrong layout: record {i} has no 'captions' list; expected {LAYOUTS}")
            corpus.ledger.append((ref, "record_without_captions"))
            continue
        caps = rec["captions"]
        if not isinstance(caps, list):
            corpus.ledger.append((ref, "captions_not_a_list"))
            continue
        if not caps:
            corpus.ledger.append((ref, "no_captions"))
        for k, cap in enumerate(caps):
            corpus.add(cap, f"{ref}:{k}")
    return corpus


def _load_json(path: Path) -> Any:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorpusError(f"{path}: not UTF-8 text (invalid byte at offset {err.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CorpusError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None


def _read_jsonl(path: Path, corpus: Corpus) -> None:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            ref = f"{path.name}:{lineno}"
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as err:
                raise CorpusError(f"{path}: line {lineno} is not UTF-8 (invalid byte at column {err.start})") from None
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise CorpusError(f"{path}: line {lineno} is not valid JSON ({err.msg})") from None
            if not isinstance(obj, dict):
                raise CorpusError(f"{path}: line {lineno}: wrong layout, expected a JSON object per line")
            if "error" in obj:
                corpus.ledger.append((ref, f"error_line: {obj['error']}"))
            elif "captions" in obj and isinstance(obj["captions"], list):
                for k, cap in enumerate(obj["captions"]):
                    corpus.add(cap, f"{ref}:{k}")
            elif "text" in obj or "caption" in obj:
                corpus.add(obj.get("text", obj.get("caption")), ref)
            else:
                raise CorpusError(f"{path}: line {lineno}: wrong layout, expected 'text', 'caption' or 'captions'")
