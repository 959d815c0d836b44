"""Source adapters: one small module per input layout, each registered by its short name.

Importing this package registers every built-in source: ``demo``, ``lupers``, ``folder``, ``lpw``,
``synth-pedes``, ``cuhk-pedes``, ``icfg-pedes``, ``rstpreid``, ``ufine`` and ``market1501``.
"""

from spac.sources import cuhk_pedes, demo, folder, lpw, lupers, market1501, synth_pedes  # noqa: F401 - registers
from spac.sources.base import SOURCES, ImageReadError, Source, SourceError, build_source, register_source
from spac.sources.demo import demo_vocabulary
from spac.sources.synth_pedes import from_synth_pedes_entry, to_synth_pedes_entry

__all__ = [
    "SOURCES",
    "ImageReadError",
    "Source",
    "SourceError",
    "build_source",
    "demo_vocabulary",
    "from_synth_pedes_entry",
    "register_source",
    "to_synth_pedes_entry",
]
