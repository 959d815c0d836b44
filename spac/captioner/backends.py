"""Captioner back-ends of ``spac caption`` behind one interface, and their registry.

A back-end turns a batch of records (+ their decoded images) into captioner outputs. The runner
(``spac.captioner.inference``) reads image bytes, calls ``prepare`` per image (decode/resize on the CPU; a
``ValueError`` there marks that one image corrupt) and ``run`` per batch. Built-ins, imported on first use:
``spac`` (the SPAC prefix captioner), ``hf`` (a transformers image-to-text model from a local folder) and
``template`` (no model: captions rendered from the record's known attributes).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from spac.records import Attributes, PersonRecord


@dataclass(frozen=True)
class CaptionOutput:
    """What a back-end says about one image: six attributes and one caption per style."""

    attributes: Attributes
    captions: list[tuple[str, str]] = field(default_factory=list)  # (style, text)


class Backend(Protocol):
    name: str
    revision: str
    needs_images: bool
    """False when captions come from the record alone (``template``): the runner then reads no images."""

    def prepare(self, record: PersonRecord, image: bytes | None) -> Any:
        """Per-image preprocessing; raise ``ValueError`` for an unreadable image."""

    def run(self, records: Sequence[PersonRecord], prepared: Sequence[Any]) -> list[CaptionOutput]:
        """One output per record, in order."""


BACKENDS: dict[str, Callable[..., Backend]] = {}
_BUILTIN = {"spac": "spac.captioner.backend_spac", "hf": "spac.captioner.backend_hf",
            "template": "spac.captioner.backend_template"}


class BackendError(ValueError):
    """Unknown back-end or options that do not fit it; the message lists what is known."""


def register_backend(name: str) -> Callable[[Callable[..., Backend]], Callable[..., Backend]]:
    def add(factory: Callable[..., Backend]) -> Callable[..., Backend]:
        BACKENDS[name] = factory
        return factory

    return add


def available_backends() -> list[str]:
    return sorted(set(BACKENDS) | set(_BUILTIN))


def build_backend(name: str, **options: Any) -> Backend:
    """Instantiate back-end ``name`` (``spac``, ``hf``, ``template`` or a registered one) with its options."""
    if name not in BACKENDS and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in BACKENDS:
        raise BackendError(f"unknown captioner back-end {name!r}; known: {available_backends()}")
    try:
        return BACKENDS[name](**options)
    except TypeError as err:
        raise BackendError(f"back-end {name!r}: {err}") from None
