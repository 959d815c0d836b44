"""The ``market1501`` source: the Market-1501 release folder (also DukeMTMC-reID, which uses the same layout).

``root`` holds ``bounding_box_train/``, ``bounding_box_test/`` and ``query/`` (FORMATS.md); ``split`` picks
``train``, ``test``, ``query`` or ``all`` (the three folders together: query and test images of one person are
one identity). Names ``PPPP_cX...`` give ``person_id`` = PPPP and ``camera`` = X; ``source_ref`` is
``<folder>/<file name>``, so per-image annotations join with ``spac labels market1501 --images
ROOT/<folder> --prefix <folder>/``. Junk (``-1``) and distractor (``0000``) images follow ``distractors`` as in
the ``folder`` source: ``"ledger"`` lists them as identities -1 / 0 whose images are dropped with reasons
``junk`` / ``distractor``; ``"skip"`` leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from spac.records import PersonRecord
from spac.sources.base import Source, SourceError, register_source
from spac.sources.files import list_images, require_dir
from spac.sources.folder import FolderSource, check_distractors

FOLDERS = {"train": ("bounding_box_train",), "test": ("bounding_box_test",), "query": ("query",)}
FOLDERS["all"] = FOLDERS["train"] + FOLDERS["test"] + FOLDERS["query"]


@register_source
class Market1501Source(FolderSource):
    """The ``folder`` source's Market grouping, records and image reading over the release's split folders."""

    name = "market1501"

    def __init__(self, *, root: str | Path, split: str = "train", distractors: str = "ledger") -> None:
        if split not in FOLDERS:
            raise SourceError(f"market1501 source: split must be one of {sorted(FOLDERS)}, got {split!r}")
        check_distractors(self.name, distractors)
        Source.__init__(self, root=str(root), split=split, distractors=distractors)  # its own options, not folder's
        self.root = require_dir(Path(root), "market1501 source")
        self.split, self.distractors = split, distractors
        self.skipped = 0
        missing = [f for f in FOLDERS[split] if not (self.root / f).is_dir()]
        if missing:
            raise SourceError(f"market1501 source: {self.root} lacks {missing} (expected the release layout "
                              "bounding_box_train/, bounding_box_test/, query/)")

    def identities(self) -> Iterator[list[PersonRecord]]:
        refs = [f"{folder}/{name}" for folder in FOLDERS[self.split] for name in list_images(self.root / folder)]
        yield from self._market(refs)  # one identity per pid across the split's folders
