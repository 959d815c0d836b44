"""The ``synth-pedes`` source and the SYNTH-PEDES release annotation, imported and exported exactly.

Release layout (METHOD.md §1.9): ``root/Part1..Part11/<id>/<k>.jpg`` and ``root/synthpedes_dataset.json``, a JSON
list of ``{"id", "file_path", "attributes": ["gender,head,upper,lower,shoes,belongings"], "captions": [...],
"prompt_caption": ["..."]}`` with ``unknown`` in missing slots.

:func:`from_synth_pedes_entry` / :func:`to_synth_pedes_entry` round-trip an entry exactly (values, key order,
``unknown`` slots, list shapes). What the record cannot express by itself -- an attribute string that does not
re-serialise identically (odd spacing, empty slots), a non-standard key order, extra keys -- is kept in
``provenance["synth_pedes"]``. Captions become ``Caption(style="synth-pedes", generator="spac")`` and the prompt
caption ``PromptCaption(template_id="synth-pedes")``; spans are left for ``spac generate`` to extract.

The source streams the JSON (never holding it, nor any image) and groups consecutive entries with the same
``id`` (the release is ordered by identity). An id that comes back after other ids is a SourceError unless
``grouped=False``, which holds all entries in memory to group them (fine for subsets). A single malformed
entry does not stop a run: it becomes a record with ``provenance["invalid"]`` (the reason) whose
``read_image`` raises ImageReadError(reason ``invalid_annotation``), so it lands in the ledger; its identity is
its ``id`` when that is an int, else ``-(entry index + 1)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from spac.records import Attributes, Caption, PersonRecord, PromptCaption, RecordError
from spac.sources.base import ImageReadError, Source, SourceError, register_source
from spac.sources.files import read_image_file, require_dir, resolve_ref
from spac.sources.jsonstream import iter_json_array

ENTRY_KEYS = ("id", "file_path", "attributes", "captions", "prompt_caption")
ANNOTATION_FILE = "synthpedes_dataset.json"
CAPTION_STYLE = "synth-pedes"
CAPTION_GENERATOR = "spac"
TEMPLATE_ID = "synth-pedes"


def _strings(value: Any, what: str, where: str, *, at_most: int | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{where}: {what!r} must be a list of strings, got {value!r}")
    if at_most is not None and len(value) > at_most:
        raise RecordError(f"{where}: {what!r} holds {len(value)} items, at most {at_most} expected")
    return value


def from_synth_pedes_entry(entry: Mapping[str, Any], *, source: str = "synth-pedes") -> PersonRecord:
    """The record of one release entry; raises RecordError naming the entry when it is malformed."""
    if not isinstance(entry, Mapping):
        raise RecordError(f"SYNTH-PEDES entry must be an object, got {type(entry).__name__}")
    where = f"SYNTH-PEDES entry {entry.get('file_path', entry.get('id', '?'))!r}"
    pid, file_path = entry.get("id"), entry.get("file_path")
    if not isinstance(pid, int) or isinstance(pid, bool):
        raise RecordError(f"{where}: 'id' must be an int, got {pid!r}")
    if not isinstance(file_path, str) or not file_path:
        raise RecordError(f"{where}: 'file_path' must be a non-empty string, got {file_path!r}")
    extra: dict[str, Any] = {}
    raw_attributes = _strings(entry.get("attributes", []), "attributes", where, at_most=1)
    attributes = Attributes()
    try:
        if raw_attributes:
            attributes = Attributes.from_string(raw_attributes[0])
            if attributes.to_string() != raw_attributes[0]:
                extra["attributes"] = raw_attributes[0]
        captions = tuple(
            Caption(text=t, style=CAPTION_STYLE, generator=CAPTION_GENERATOR)
            for t in _strings(entry.get("captions", []), "captions", where)
        )
        prompts = _strings(entry.get("prompt_caption", []), "prompt_caption", where, at_most=1)
        prompt = PromptCaption(text=prompts[0], template_id=TEMPLATE_ID) if prompts else None
    except RecordError as err:
        raise RecordError(f"{where}: {err}") from None
    if not raw_attributes and "attributes" in entry:
        extra["attributes"] = None  # an empty list, not one "unknown,..." string
    keys = list(entry)
    if keys != list(ENTRY_KEYS):
        extra["key_order"] = keys
    unknown = {k: v for k, v in entry.items() if k not in ENTRY_KEYS}
    if unknown:
        extra["extra"] = unknown
    return PersonRecord(
        source=source,
        source_ref=file_path,
        person_id=pid,
        attributes=attributes,
        captions=captions,
        prompt_caption=prompt,
        provenance={"synth_pedes": extra} if extra else {},
    )


def to_synth_pedes_entry(record: PersonRecord, *, file_path: str | None = None) -> dict[str, Any]:
    """The release entry of ``record`` (``file_path`` defaults to ``record.source_ref``)."""
    kept = record.provenance.get("synth_pedes", {})
    if "attributes" in kept:
        attributes = [] if kept["attributes"] is None else [kept["attributes"]]
    else:
        attributes = [record.attributes.to_string()]
    values = {
        "id": record.person_id,
        "file_path": record.source_ref if file_path is None else file_path,
        "attributes": attributes,
        "captions": [c.text for c in record.captions],
        "prompt_caption": [] if record.prompt_caption is None else [record.prompt_caption.text],
        **kept.get("extra", {}),
    }
    return {k: values[k] for k in kept.get("key_order", ENTRY_KEYS)}


@register_source
class SynthPedesSource(Source):
    name = "synth-pedes"

    def __init__(self, *, root: str | Path, annotations: str | Path | None = None, grouped: bool = True) -> None:
        super().__init__(root=str(root), annotations=None if annotations is None else str(annotations),
                         grouped=grouped)
        self.root = require_dir(Path(root), "synth-pedes source")
        self.annotations = Path(annotations) if annotations is not None else self.root / ANNOTATION_FILE
        if not self.annotations.is_file():
            raise SourceError(f"synth-pedes source: annotation file {self.annotations} is missing")
        if not any(p.is_dir() for p in self.root.glob("Part*")):
            raise SourceError(f"synth-pedes source: no Part*/ image folders in {self.root} (expected Part1..Part11)")
        self.grouped = grouped

    def _records(self) -> Iterator[PersonRecord]:
        for index, entry in enumerate(iter_json_array(self.annotations)):
            try:
                yield from_synth_pedes_entry(entry, source=self.name)
            except RecordError as err:
                pid = entry.get("id") if isinstance(entry, Mapping) else None
                ref = entry.get("file_path") if isinstance(entry, Mapping) else None
                yield PersonRecord(
                    source=self.name,
                    source_ref=ref if isinstance(ref, str) and ref else f"{self.annotations.name}#{index}",
                    person_id=pid if isinstance(pid, int) and not isinstance(pid, bool) else -(index + 1),
                    provenance={"invalid": f"{self.annotations}: {err}", "entry_index": index},
                )

    def identities(self) -> Iterator[list[PersonRecord]]:
        if not self.grouped:
            groups: dict[int, list[PersonRecord]] = {}
            for record in self._records():
                groups.setdefault(record.person_id, []).append(record)
            yield from groups.values()
            return
        seen: set[int] = set()
        group: list[PersonRecord] = []
        for record in self._records():
            if group and record.person_id != group[0].person_id:
                yield group
                group = []
            if not group:
                if record.person_id in seen:
                    raise SourceError(f"synth-pedes source: {self.annotations} is not ordered by identity (id "
                                      f"{record.person_id} comes back at {record.source_ref!r}); pass grouped=False")
                seen.add(record.person_id)
            group.append(record)
        if group:
            yield group

    def read_image(self, record: PersonRecord) -> bytes:
        invalid = record.provenance.get("invalid")
        if invalid:
            raise ImageReadError(invalid, reason="invalid_annotation")
        return read_image_file(resolve_ref(self.root, record.source_ref), "jpg")
