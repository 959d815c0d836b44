"""Decoding one raw training sample: its image into (a slot of) the batch tensor, and its caption options
(captions and prompt caption with their attribute spans) checked straight from the parsed JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plip import transforms
from plip.sampling import RawSample
from plip.tokenizer import SLOT_INDEX
from spac.records import SCHEMA, RecordError, from_sample


def load_image(
    sample: RawSample, size: tuple[int, int], resample: str, flip: bool, out: torch.Tensor | np.ndarray | None = None
) -> torch.Tensor:
    """Decode, resize to ``size`` (H, W) and optionally mirror one image -> uint8 ``[3, H, W]`` (into ``out``, a
    tensor or a numpy view of one).

    The pixels of ``plip.transforms`` (``load_rgb`` -> ``resize`` -> mirror -> ``to_uint8_tensor``) with one
    copy into the batch instead of four: the mirror and the HWC -> CHW move are done by one strided numpy copy.
    """
    try:
        rgb = transforms.load_rgb(sample.get("jpg", sample.get("png")))
    except ValueError as err:
        raise ValueError(f"{sample.get('__url__')}: sample {sample['__key__']!r}: {err}") from err
    rgb = transforms.resize(rgb, size, resample)
    h, w = size
    pixels = np.asarray(rgb).transpose(2, 0, 1)  # [3, H, W] view
    if flip:
        pixels = pixels[:, :, ::-1]
    if out is None:
        out = torch.empty((3, h, w), dtype=torch.uint8)
    np.copyto(out if isinstance(out, np.ndarray) else out.numpy(), pixels)
    return torch.from_numpy(out) if isinstance(out, np.ndarray) else out


def caption_options(sample: RawSample, prompt_weight: float) -> tuple[int, list[tuple[str, list[tuple], float]]]:
    """``(person_id, [(text, spans, weight), ...])`` of one raw sample: its captions, then its prompt caption.

    Read straight from the parsed JSON (no :class:`~spac.records.PersonRecord` per visit, a fifth of a decode),
    checking what the loader uses: schema, fields, person id, texts, span slots and offsets. A record that fails
    is handed to ``spac.records.from_sample`` for its precise :class:`RecordError`. Spans come as
    ``(start, end, slot index)``.
    """
    data = sample["json"]
    try:
        if data.get("schema") != SCHEMA or not _TOP_REQUIRED <= data.keys() <= _TOP_FIELDS:
            raise _Invalid
        pid = data["person_id"]
        if type(pid) is not int or data["key"] != sample["__key__"] or not _valid_fields(data):
            raise _Invalid
        options = []
        for c in data.get("captions") or ():
            if not c.keys() <= _CAPTION_FIELDS:
                raise _Invalid
            options.append((c["text"], _spans(c["text"], c.get("spans")), 1.0))
        prompt = data.get("prompt_caption")
        if prompt is not None:
            spans = _spans(prompt["text"], prompt.get("spans"))
            if not prompt.keys() <= _PROMPT_FIELDS or not isinstance(prompt["template_id"], str):
                raise _Invalid
            if prompt_weight > 0:
                options.append((prompt["text"], spans, prompt_weight))
    except (_Invalid, KeyError, TypeError, AttributeError):
        try:
            from_sample({"__key__": sample["__key__"], "json": data})
        except RecordError as err:
            raise RecordError(f"{sample.get('__url__')}: {err}") from None
        raise RecordError(f"{sample.get('__url__')}: sample {sample['__key__']!r}: malformed record") from None
    if not options:
        raise RecordError(f"{sample.get('__url__')}: sample {data['key']!r} has no caption")
    return pid, options


class _Invalid(Exception):
    """A record the fast reader does not accept (``from_sample`` then says why)."""


_TOP_REQUIRED = frozenset({"schema", "key", "source", "source_ref", "person_id"})
_TOP_FIELDS = _TOP_REQUIRED | {"camera", "tracklet", "attributes", "captions", "prompt_caption", "provenance"}
_CAPTION_FIELDS = frozenset({"text", "style", "generator", "spans"})
_PROMPT_FIELDS = frozenset({"text", "template_id", "spans"})
_SPAN_KEYS = {"slot", "start", "end"}


def _valid_fields(data: dict) -> bool:
    """The checks of ``PersonRecord.from_dict`` on the fields the loader does not read."""
    if type(data["source"]) is not str or type(data["source_ref"]) is not str or type(data["key"]) is not str:
        return False
    if "." in data["key"] or "/" in data["key"] or type(data.get("captions") or []) is not list:
        return False
    if not isinstance(data.get("provenance") or {}, dict):
        return False
    for name in ("camera", "tracklet"):
        if data.get(name) is not None and type(data[name]) is not int:
            return False
    attributes = data.get("attributes") or {}
    if attributes.keys() != SLOT_INDEX.keys():
        return False
    return all(v is None or (type(v) is str and v.strip() and "," not in v) for v in attributes.values())


def _spans(text: Any, spans: Any) -> list[tuple[int, int, int]]:
    if type(text) is not str or not text.strip():
        raise _Invalid
    out = []
    for span in spans or ():
        start, end = span["start"], span["end"]
        if span.keys() != _SPAN_KEYS or type(start) is not int or type(end) is not int or not 0 <= start < end:
            raise _Invalid
        if end > len(text) or span["slot"] not in SLOT_INDEX:
            raise _Invalid
        out.append((start, end, SLOT_INDEX[span["slot"]]))
    return out

