"""The ``lpw`` source: Labeled Pedestrian in the Wild, ``scen{s}/view{v}/<pid>/*.jpg`` (FORMATS.md).

Person ids are local to a scene, so the global identity is (scene, pid): ``person_id = scene * 100000 + pid``
(stable when folders are added, and readable: 2000123 is scene 2, pid 123). ``camera`` is the view number.
An identity's images from every view of its scene are yielded together, ordered by (view, file name).
``root`` may be the folder holding ``scen*`` (e.g. ``pep_256x128/data_slim``); ``scenes`` restricts to some
scenes (the usual protocol trains on scenes 2 and 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from spac.records import PersonRecord
from spac.sources.base import Source, SourceError, register_source
from spac.sources.files import image_ext, list_images, read_image_file, require_dir, resolve_ref, sorted_entries

_SCENE = re.compile(r"^scen(\d+)$")
_VIEW = re.compile(r"^view(\d+)$")
PID_STRIDE = 100_000


def _numbered(path: Path, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    return [(int(m.group(1)), e.name) for e in sorted_entries(path) if e.is_dir() and (m := pattern.match(e.name))]


@register_source
class LpwSource(Source):
    name = "lpw"

    def __init__(self, *, root: str | Path, scenes: Sequence[int] | None = None) -> None:
        super().__init__(root=str(root), scenes=None if scenes is None else list(scenes))
        self.root = require_dir(Path(root), "lpw source")
        for inner in ("data_slim", "pep_256x128/data_slim"):  # accept the release's outer folders too
            if not _numbered(self.root, _SCENE) and (self.root / inner).is_dir():
                self.root = self.root / inner
        self.scenes = None if scenes is None else {int(s) for s in scenes}

    def _scene_dirs(self) -> list[tuple[int, str]]:
        scenes = _numbered(self.root, _SCENE)
        if not scenes:
            raise SourceError(f"lpw source: no scen*/ folders in {self.root} (expected scen{{1,2,3}}/view*/<pid>/)")
        if self.scenes is not None:
            scenes = [(n, d) for n, d in scenes if n in self.scenes]
            if not scenes:
                raise SourceError(f"lpw source: none of scenes {sorted(self.scenes)} exist in {self.root}")
        return sorted(scenes)

    def identities(self) -> Iterator[list[PersonRecord]]:
        for scene, scene_dir in self._scene_dirs():
            views = sorted(_numbered(self.root / scene_dir, _VIEW))
            if not views:
                raise SourceError(f"lpw source: {self.root / scene_dir} has no view*/ folders")
            pids: dict[int, list[tuple[int, str, str]]] = {}  # pid -> [(view, view_dir, pid_dir)]
            for view, view_dir in views:
                for entry in sorted_entries(self.root / scene_dir / view_dir):
                    if not entry.is_dir():
                        continue
                    if not entry.name.isdigit():
                        raise SourceError(f"lpw source: {Path(entry.path)} is not a numeric person folder")
                    pid = int(entry.name)
                    if pid >= PID_STRIDE:
                        raise SourceError(f"lpw source: person id {pid} in {Path(entry.path)} is >= {PID_STRIDE}")
                    pids.setdefault(pid, []).append((view, view_dir, entry.name))
            for pid in sorted(pids):
                group = [
                    PersonRecord(
                        source=self.name,
                        source_ref=f"{scene_dir}/{view_dir}/{pid_dir}/{name}",
                        person_id=scene * PID_STRIDE + pid,
                        camera=view,
                        image_ext=image_ext(name) or "jpg",
                    )
                    for view, view_dir, pid_dir in pids[pid]
                    for name in list_images(self.root / scene_dir / view_dir / pid_dir)
                ]
                if group:
                    yield group

    def read_image(self, record: PersonRecord) -> bytes:
        return read_image_file(resolve_ref(self.root, record.source_ref), record.image_ext)
