"""The ``folder`` source: person crops in a plain directory, one sub-folder per identity or Market-1501 names.

Layouts of ``root`` (``layout="auto"`` picks by looking):

- ``identities``: one sub-folder per identity holding its images. ``person_id`` is the folder name when every
  folder name is an integer (``0001`` -> 1), else the folder's index in sorted order. A sub-folder whose
  Market-style names carry several person ids (root one level too high) is a SourceError.
- ``market``: a flat folder whose names start ``PPPP_cX`` (Market-1501 ``PPPP_cXsY_FFFFFF_BB.jpg``, DukeMTMC
  ``PPPP_cX_fFFFFFFF.jpg``): ``person_id`` = PPPP, ``camera`` = X; images grouped by person id.
  Junk (``-1``) and distractor (``0000``) images follow ``distractors``: ``"ledger"`` (default) lists them
  as identities -1 / 0 whose ``read_image`` raises ImageReadError(reason ``junk``/``distractor``), so the ledger
  accounts for every file; ``"skip"`` leaves them out (counted in ``self.skipped``).
- ``single``: a flat folder of unlabelled crops, one identity per image (``person_id`` = index by name).

JPEG and PNG are read as they are (PNG records have ``image_ext="png"``; nothing is re-encoded here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from spac.records import PersonRecord
from spac.sources.base import ImageReadError, Source, SourceError, register_source
from spac.sources.files import image_ext, list_images, read_image_file, require_dir, resolve_ref, sorted_entries

MARKET_NAME = re.compile(r"^(-1|\d+)_c(\d+)")
LAYOUTS = ("auto", "identities", "market", "single")
_EXCLUDED = {-1: "junk", 0: "distractor"}


def check_distractors(source: str, distractors: str) -> None:
    if distractors not in ("ledger", "skip"):
        raise SourceError(f"{source} source: distractors must be 'ledger' or 'skip', got {distractors!r}")


@register_source
class FolderSource(Source):
    name = "folder"

    def __init__(self, *, root: str | Path, layout: str = "auto", distractors: str = "ledger") -> None:
        if layout not in LAYOUTS:
            raise SourceError(f"folder source: layout must be one of {LAYOUTS}, got {layout!r}")
        check_distractors(self.name, distractors)
        super().__init__(root=str(root), layout=layout, distractors=distractors)
        self.root = require_dir(Path(root), "folder source")
        self.layout, self.distractors = layout, distractors
        self.skipped = 0

    def _detect(self) -> tuple[str, list[str], list[str]]:
        entries = sorted_entries(self.root)
        dirs = [e.name for e in entries if e.is_dir()]
        files = [e.name for e in entries if e.is_file() and image_ext(e.name)]
        layout = self.layout
        if layout == "auto":
            if dirs and files:
                raise SourceError(f"folder source: {self.root} mixes image files and sub-folders; "
                                  "use one sub-folder per identity or a flat folder")
            if dirs:
                layout = "identities"
            else:
                matching = [bool(MARKET_NAME.match(n)) for n in files]
                if all(matching) and files:
                    layout = "market"
                elif any(matching):
                    odd = files[matching.index(False)]
                    raise SourceError(f"folder source: {self.root / odd} does not follow the Market-1501 naming "
                                      "(PPPP_cX...) that other files in the folder use; pass layout='single' "
                                      "to treat every image as its own identity")
                else:
                    layout = "single"
        if layout in ("market", "single") and not files:
            raise SourceError(f"folder source: no JPEG/PNG images in {self.root}")
        if layout == "identities" and not dirs:
            raise SourceError(f"folder source: {self.root} has no identity sub-folders")
        return layout, dirs, files

    def identities(self) -> Iterator[list[PersonRecord]]:
        layout, dirs, files = self._detect()
        if layout == "identities":
            yield from self._identity_folders(dirs)
        elif layout == "market":
            yield from self._market(files)
        else:
            for i, name in enumerate(files):
                yield [self._record(name, i)]

    def _record(self, ref: str, pid: int, camera: int | None = None, excluded: str | None = None) -> PersonRecord:
        return PersonRecord(
            source=self.name,
            source_ref=ref,
            person_id=pid,
            camera=camera,
            image_ext=image_ext(ref) or "jpg",
            provenance={"excluded": excluded} if excluded else {},
        )

    def _identity_folders(self, dirs: list[str]) -> Iterator[list[PersonRecord]]:
        numeric = all(d.isdigit() for d in dirs)
        for index, folder in enumerate(dirs):
            pid = int(folder) if numeric else index
            group, labelled = [], set()
            for name in list_images(self.root / folder):
                match = MARKET_NAME.match(name)
                if match:
                    labelled.add(match.group(1))
                group.append(self._record(f"{folder}/{name}", pid, int(match.group(2)) if match else None))
            if len(labelled) > 1:  # e.g. root=Market-1501/ instead of Market-1501/bounding_box_train/
                raise SourceError(f"folder source: {self.root / folder} holds Market-1501 names of "
                                  f"{len(labelled)} person ids; point root at that folder for the flat layout")
            if group:
                yield group

    def _market(self, refs: list[str]) -> Iterator[list[PersonRecord]]:
        """Records of Market-named images (``refs`` relative to root; the file name carries pid and camera) grouped
        by person id, in pid order; junk and distractors by ``distractors``."""
        by_pid: dict[int, list[tuple[str, int]]] = {}
        for ref in refs:
            match = MARKET_NAME.match(ref.rsplit("/", 1)[-1])
            if match is None:
                raise SourceError(f"{self.name} source: {self.root / ref} is not a Market-1501 name (PPPP_cX...)")
            by_pid.setdefault(int(match.group(1)), []).append((ref, int(match.group(2))))
        for pid in sorted(by_pid):
            excluded = _EXCLUDED.get(pid)
            if excluded and self.distractors == "skip":
                self.skipped += len(by_pid[pid])
                continue
            yield [self._record(name, pid, camera, excluded) for name, camera in by_pid[pid]]

    def read_image(self, record: PersonRecord) -> bytes:
        excluded = record.provenance.get("excluded")
        if excluded:
            raise ImageReadError(f"{self.root / record.source_ref}: Market-1501 {excluded} image", reason=excluded)
        return read_image_file(resolve_ref(self.root, record.source_ref), record.image_ext)
