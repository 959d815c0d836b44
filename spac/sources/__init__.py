"""Source adapters: one small module per input layout, each registered by its short name."""

from spac.sources.base import SOURCES, ImageReadError, Source, SourceError, build_source, register_source

__all__ = ["SOURCES", "ImageReadError", "Source", "SourceError", "build_source", "register_source"]
