"""Human-captioned person datasets as sources and caption corpora: CUHK-PEDES, ICFG-PEDES, RSTPReid, UFine.

All share one record layout (FORMATS.md): a JSON list of ``{"id", "file_path" (RSTPReid: "img_path"), "captions":
[...], "split"}`` with images under ``root/imgs/`` (UFine: under ``root``). The annotation file is looked up under
``root`` by its released name(s) -- ``reid_raw.json`` (``cuhk-pedes``), ``ICFG-PEDES.json`` or ``ICFG_PEDES.json``
(``icfg-pedes``), ``data_captions.json`` (``rstpreid``), the one ``.json`` (``ufine``); ``cuhk-pedes`` accepts the
first three -- or given as ``annotations=``. ``split`` keeps one split (``train``/``val``/``test``; ``None`` = all).
Captions become ``Caption(style=<style>, generator="human")``; ``style`` defaults to the corpus name of the
annotation file (``cuhk-pedes``, ``icfg-pedes``, ``rstpreid``; else the source name): one style per corpus, as SPAC
trains.

Identities are grouped by ``id`` (dataset-global, kept as released) in order of first appearance; the record
list is small (<= 55k) and held in memory, images are not. Captions that are empty are left out of the record
and counted in ``provenance["empty_captions"]``. A malformed record does not stop a run: it becomes a record
with ``provenance["invalid"]`` whose ``read_image`` raises ImageReadError(reason ``invalid_annotation``); its
identity is its ``id`` when that is an int, else ``-(record index + 1)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from spac.records import Caption, PersonRecord, RecordError
from spac.sources.base import ImageReadError, Source, SourceError, register_source
from spac.sources.files import image_ext, read_image_file, require_dir, resolve_ref
from spac.sources.jsonstream import iter_json_array

SPLITS = ("train", "val", "test")
CORPUS_OF_FILE = {
    "reid_raw.json": "cuhk-pedes",
    "ICFG-PEDES.json": "icfg-pedes",
    "ICFG_PEDES.json": "icfg-pedes",
    "data_captions.json": "rstpreid",
}


class CaptionedPersonSource(Source):
    """Shared reader of the CUHK-PEDES record layout; subclasses name the corpus and its annotation files."""

    annotation_names: ClassVar[tuple[str, ...]]
    image_dir: ClassVar[str] = "imgs"
    """Folder under ``root`` that ``file_path`` is relative to (``""``: root itself)."""

    def __init__(self, *, root: str | Path, split: str | None = None, annotations: str | Path | None = None,
                 style: str | None = None) -> None:
        if split is not None and split not in SPLITS:
            raise SourceError(f"{self.name} source: split must be one of {SPLITS} or None, got {split!r}")
        super().__init__(root=str(root), split=split, annotations=None if annotations is None else str(annotations),
                         style=style)
        self.root = require_dir(Path(root), f"{self.name} source")
        if annotations is not None:
            self.annotations = Path(annotations)
            if not self.annotations.is_file():
                raise SourceError(f"{self.name} source: annotation file {self.annotations} is missing")
        else:
            found = [self.root / n for n in self.annotation_names if (self.root / n).is_file()]
            if not self.annotation_names:  # no released name to look for: the one JSON file in root
                found = sorted(self.root.glob("*.json"))
                if len(found) != 1:
                    raise SourceError(f"{self.name} source: {self.root} holds {len(found)} .json files; name the "
                                      "annotation file with annotations=FILE")
            if not found:
                names = " or ".join(str(self.root / n) for n in self.annotation_names)
                raise SourceError(f"{self.name} source: annotation file {names} is missing")
            self.annotations = found[0]
        self.images = self.root / self.image_dir if self.image_dir else self.root
        self.split, self.style = split, style or CORPUS_OF_FILE.get(self.annotations.name, self.name)

    def _parse(self, entry: Any, index: int) -> PersonRecord | None:
        """The record of one annotation entry, or None when it belongs to another split."""
        where = f"{self.annotations} record {index}"
        if not isinstance(entry, Mapping):
            raise RecordError(f"{where}: expected an object, got {type(entry).__name__}")
        pid, path, captions = entry.get("id"), entry.get("file_path", entry.get("img_path")), entry.get("captions")
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise RecordError(f"{where}: 'id' must be an int, got {pid!r}")
        if not isinstance(path, str) or not path:
            raise RecordError(f"{where}: 'file_path'/'img_path' must be a non-empty string, got {path!r}")
        if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
            raise RecordError(f"{where}: 'captions' must be a list of strings")
        if self.split is not None:
            if entry.get("split") not in SPLITS:
                raise RecordError(f"{where}: 'split' must be one of {SPLITS}, got {entry.get('split')!r}")
            if entry["split"] != self.split:
                return None
        texts = [c for c in captions if c.strip()]
        provenance: dict[str, Any] = {"split": entry.get("split")}
        if len(texts) < len(captions):
            provenance["empty_captions"] = len(captions) - len(texts)
        return PersonRecord(
            source=self.name,
            source_ref=path,
            person_id=pid,
            captions=tuple(Caption(text=t, style=self.style, generator="human") for t in texts),
            image_ext=image_ext(path) or "jpg",
            provenance=provenance,
        )

    def identities(self) -> Iterator[list[PersonRecord]]:
        groups: dict[int, list[PersonRecord]] = {}
        for index, entry in enumerate(iter_json_array(self.annotations)):
            try:
                record = self._parse(entry, index)
            except RecordError as err:
                pid = entry.get("id") if isinstance(entry, Mapping) else None
                ref = entry.get("file_path", entry.get("img_path")) if isinstance(entry, Mapping) else None
                record = PersonRecord(
                    source=self.name,
                    source_ref=ref if isinstance(ref, str) and ref else f"{self.annotations.name}#{index}",
                    person_id=pid if isinstance(pid, int) and not isinstance(pid, bool) else -(index + 1),
                    provenance={"invalid": str(err), "entry_index": index},
                )
            if record is not None:
                groups.setdefault(record.person_id, []).append(record)
        yield from groups.values()

    def read_image(self, record: PersonRecord) -> bytes:
        invalid = record.provenance.get("invalid")
        if invalid:
            raise ImageReadError(invalid, reason="invalid_annotation")
        return read_image_file(resolve_ref(self.images, record.source_ref), record.image_ext)


@register_source
class CuhkPedesSource(CaptionedPersonSource):
    """``cuhk-pedes`` reads any of the three layouts (first file found, in CORPUS_OF_FILE order)."""

    name = "cuhk-pedes"
    annotation_names = tuple(CORPUS_OF_FILE)


@register_source
class IcfgPedesSource(CaptionedPersonSource):
    name = "icfg-pedes"
    annotation_names = ("ICFG-PEDES.json", "ICFG_PEDES.json")


@register_source
class RstpReidSource(CaptionedPersonSource):
    name = "rstpreid"
    annotation_names = ("data_captions.json",)


@register_source
class UfineSource(CaptionedPersonSource):
    """UFine6926 / UFine3C (UFineBench): the same record layout with ``file_path`` = ``images/N.jpg`` relative to
    ``root``; the annotation file is the one ``.json`` in ``root`` (or ``annotations=``). UFine3C's extra
    ``source`` field is ignored; its several captions per image all become records' captions."""

    name = "ufine"
    annotation_names = ()
    image_dir = ""
