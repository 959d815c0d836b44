"""Join captioner outputs and attribute annotations onto source records by ``source_ref``.

Both inputs are JSONL (one file or a folder of ``*.jsonl`` parts, read in name order). Captioner lines look
like ``{"source", "source_ref", "attributes": {six slots}, "captions": [{"text", "style", "generator"}],
"generator", "revision"}`` or ``{"source_ref", "error"}``; annotation lines like ``{"source_ref", "attributes"}``.
A line that cannot be used (bad JSON, missing ``source_ref``, invalid fields, duplicate ref) becomes a row of
the run-level ledger with its file and line number instead of stopping the run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spac.records import SLOTS, UNKNOWN, Attributes, Caption, PersonRecord, RecordError
from spac.shards.ledger import INVALID, LedgerRow
from spac.sources.base import SourceError
from spac.steps.base import Drop, RecordStep, StepContext

ATTRIBUTE_ORIGINS = ("annotations", "captioner", "source")


@dataclass(frozen=True, kw_only=True)
class JoinConfig:
    attribute_priority: tuple[str, ...] = ATTRIBUTE_ORIGINS
    """Where a record's attributes come from, first available wins (whole set, not per slot)."""
    require_captions: bool = True
    """With ``--captions``: drop records that have no captioner line (``missing_captions``)."""

    def __post_init__(self) -> None:
        bad = set(self.attribute_priority) - set(ATTRIBUTE_ORIGINS)
        if bad:
            raise ValueError(f"join.attribute_priority: unknown origin(s) {sorted(bad)}; use {ATTRIBUTE_ORIGINS}")


@dataclass(frozen=True, kw_only=True)
class CaptionerEntry:
    where: str  # file:line, for the ledger
    source: str | None = None
    attributes: Attributes | None = None
    captions: tuple[Caption, ...] = ()
    generator: str | None = None
    revision: str | None = None
    error: str | None = None


def _jsonl_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if files:
            return files
        raise SourceError(f"{path}: folder holds no *.jsonl parts")
    raise SourceError(f"{path}: no such file or folder")


def _lines(path: Path) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """``(where, object or None, problem or None)`` for each non-empty line."""
    for file in _jsonl_files(path):
        with open(file, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{file}:{n}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    yield where, None, f"malformed_json: {err}"
                    continue
                if not isinstance(obj, dict) or not isinstance(obj.get("source_ref"), str) or not obj["source_ref"]:
                    yield where, None, "missing_source_ref: line needs a non-empty string 'source_ref'"
                    continue
                yield where, obj, None


def _attributes(data: Any) -> Attributes:
    if not isinstance(data, dict):
        raise RecordError(f"'attributes' must be an object with slots {SLOTS}")
    unknown = set(data) - set(SLOTS)
    if unknown:
        raise RecordError(f"'attributes' has unknown slot(s) {sorted(unknown)}; slots are {SLOTS}")
    # a missing slot is unknown, as is the SYNTH-PEDES spelling "unknown"
    return Attributes(**{k: (None if data.get(k) in (None, "", UNKNOWN) else data[k]) for k in SLOTS})


def _invalid(where: str, obj: dict | None, problem: str) -> LedgerRow:
    reason, _, detail = problem.partition(": ")
    ref = obj.get("source_ref") if obj else None
    return LedgerRow(source=(obj or {}).get("source"), source_ref=ref, person_id=None, key=None, status=INVALID,
                     reason=reason, detail=f"{where}: {detail}" if detail else where)


def load_captioner_outputs(path: Path) -> tuple[dict[str, CaptionerEntry], list[LedgerRow]]:
    """Parse captioner JSONL into ``{source_ref: entry}`` plus run-ledger rows for unusable lines."""
    table: dict[str, CaptionerEntry] = {}
    bad: list[LedgerRow] = []
    for where, obj, problem in _lines(path):
        if problem is None and obj["source_ref"] in table:
            problem = f"duplicate_source_ref: first seen at {table[obj['source_ref']].where}"
        if problem is None:
            try:
                table[obj["source_ref"]] = _captioner_entry(where, obj)
                continue
            except (RecordError, TypeError, KeyError) as err:
                problem = f"invalid_captioner_line: {err}"
        bad.append(_invalid(where, obj, problem))
    return table, bad


def _captioner_entry(where: str, obj: dict[str, Any]) -> CaptionerEntry:
    if "error" in obj:
        return CaptionerEntry(where=where, source=obj.get("source"), error=str(obj["error"]))
    captions = obj.get("captions") or []
    if not isinstance(captions, list):
        raise RecordError("'captions' must be a list")
    default_gen = obj.get("generator") or "unknown"
    caps = tuple(
        Caption(text=c["text"], style=c.get("style", "default"), generator=c.get("generator") or default_gen)
        for c in captions
    )
    attrs = None if obj.get("attributes") is None else _attributes(obj["attributes"])
    return CaptionerEntry(where=where, source=obj.get("source"), attributes=attrs, captions=caps,
                          generator=obj.get("generator"), revision=obj.get("revision"))


def load_annotations(path: Path) -> tuple[dict[str, tuple[str, Attributes]], list[LedgerRow]]:
    """Parse attribute annotation JSONL into ``{source_ref: (where, attributes)}`` plus run-ledger rows."""
    table: dict[str, tuple[str, Attributes]] = {}
    bad: list[LedgerRow] = []
    for where, obj, problem in _lines(path):
        if problem is None and obj["source_ref"] in table:
            problem = f"duplicate_source_ref: first seen at {table[obj['source_ref']][0]}"
        if problem is None:
            try:
                table[obj["source_ref"]] = (where, _attributes(obj.get("attributes")))
                continue
            except RecordError as err:
                problem = f"invalid_annotation: {err}"
        bad.append(_invalid(where, obj, problem))
    return table, bad


class Join(RecordStep):
    """Attach captioner captions/attributes and annotated attributes to each record."""

    name = "join"

    def __init__(self, cfg: JoinConfig) -> None:
        self.cfg = cfg

    def apply(self, record: PersonRecord, ctx: StepContext) -> PersonRecord | Drop:
        entry = None
        if ctx.captions is not None:
            entry = ctx.captions.get(record.source_ref)
            if entry is None and self.cfg.require_captions:
                return Drop("missing_captions", "no captioner line for this source_ref")
            if entry is not None and entry.error is not None:
                return Drop("captioner_error", f"{entry.where}: {entry.error}")
        annotated = None if ctx.annotations is None else ctx.annotations.get(record.source_ref)
        candidates = {
            "annotations": None if annotated is None else annotated[1],
            "captioner": None if entry is None else entry.attributes,
            "source": record.attributes if record.attributes.known() else None,
        }
        attributes = next((candidates[o] for o in self.cfg.attribute_priority if candidates[o] is not None),
                          Attributes())
        provenance = dict(record.provenance)
        if entry is not None:
            provenance["captioner"] = {"generator": entry.generator, "revision": entry.revision}
        origin = next((o for o in self.cfg.attribute_priority if candidates[o] is not None), None)
        provenance["attributes_from"] = origin
        captions = record.captions + (entry.captions if entry is not None else ())
        return dataclasses.replace(record, attributes=attributes, captions=captions, provenance=provenance)
