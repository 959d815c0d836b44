"""The contract every source adapter follows: records grouped by identity, images read lazily.

A source never loads a whole dataset: ``identities()`` yields lightweight :class:`PersonRecord` lists (no image
bytes) one identity at a time, in a deterministic order, and ``read_image(record)`` fetches one image's bytes
when a worker needs them. Workers re-create the source from its options (``Source.options``), so a source holds
no open handles that cannot be pickled until it is used (LMDB environments are opened lazily per process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from spac.records import PersonRecord


class SourceError(RuntimeError):
    """The input as a whole is unusable (missing index file, wrong layout); the message names the path."""


class ImageReadError(RuntimeError):
    """One record's image cannot be read (missing file, absent LMDB key); the record is dropped with ``reason``."""

    def __init__(self, message: str, *, reason: str = "missing_image") -> None:
        super().__init__(message)
        self.reason = reason


class Source:
    """Base class of source adapters. Subclasses set ``name`` and implement the two methods."""

    name: ClassVar[str]

    def __init__(self, **options: Any) -> None:
        self.options = options

    def identities(self) -> Iterator[list[PersonRecord]]:
        """Yield the records of one identity at a time (no ``image`` bytes), deterministic order."""
        raise NotImplementedError

    def read_image(self, record: PersonRecord) -> bytes:
        """The encoded image bytes of ``record``; raises :class:`ImageReadError` when that one image is unusable."""
        raise NotImplementedError


SOURCES: dict[str, type[Source]] = {}


def register_source(cls: type[Source]) -> type[Source]:
    SOURCES[cls.name] = cls
    return cls


def build_source(name: str, **options: Any) -> Source:
    """Instantiate a registered source by its short name (``demo``, ``lupers``, ``folder``, ``lpw``, ...)."""
    if name not in SOURCES:
        raise SourceError(f"unknown source {name!r}; known: {sorted(SOURCES)}")
    return SOURCES[name](**options)


SourceFactory = Callable[..., Source]
