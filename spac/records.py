"""THE record and wire format of spac: typed, frozen records and their WebDataset samples (schema ``spac/1``).

Only this module knows how a :class:`PersonRecord` becomes the ``.jpg``/``.json``/``.txt`` members of a tar
sample and back. It imports the standard library only, so data steps stay light.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA = "spac/1"
SLOTS: tuple[str, ...] = ("gender", "head", "upper", "lower", "shoes", "belongings")
UNKNOWN = "unknown"  # how the SYNTH-PEDES attribute string spells a missing slot


class RecordError(ValueError):
    """A record or sample that does not follow the ``spac/1`` schema; the message says where and what."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Span:
    """Character offsets ``[start, end)`` of one attribute phrase inside a text, with the slot it fills."""

    slot: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.slot not in SLOTS:
            raise RecordError(f"span slot {self.slot!r} is not one of {SLOTS}")
        if not (isinstance(self.start, int) and isinstance(self.end, int)) or not 0 <= self.start < self.end:
            raise RecordError(f"span offsets must satisfy 0 <= start < end, got {self.start}..{self.end}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Caption:
    """One description of the image: its text, the annotator style it imitates and what produced it."""

    text: str
    style: str = "default"
    generator: str = "unknown"
    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        _check_text_and_spans(self.text, self.spans, "caption")


@dataclass(frozen=True, kw_only=True, slots=True)
class PromptCaption:
    """The caption rendered from the attributes with a template (METHOD.md §1.6)."""

    text: str
    template_id: str
    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        _check_text_and_spans(self.text, self.spans, "prompt_caption")


@dataclass(frozen=True, kw_only=True, slots=True)
class Attributes:
    """The six attribute slots; ``None`` means unknown."""

    gender: str | None = None
    head: str | None = None
    upper: str | None = None
    lower: str | None = None
    shoes: str | None = None
    belongings: str | None = None

    def __post_init__(self) -> None:
        for slot in SLOTS:
            value = getattr(self, slot)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise RecordError(f"attribute {slot!r} must be a non-empty string or null, got {value!r}")
            if isinstance(value, str) and "," in value:
                raise RecordError(f"attribute {slot!r} may not contain a comma (SYNTH-PEDES separator): {value!r}")

    def as_dict(self) -> dict[str, str | None]:
        return {slot: getattr(self, slot) for slot in SLOTS}

    def known(self) -> dict[str, str]:
        return {slot: v for slot, v in self.as_dict().items() if v is not None}

    def to_string(self) -> str:
        """The SYNTH-PEDES form: ``"man,black hair,black shirt,pink shorts,black shoes,unknown"``."""
        return ",".join(UNKNOWN if v is None else v for v in self.as_dict().values())

    @classmethod
    def from_string(cls, text: str) -> Attributes:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != len(SLOTS):
            raise RecordError(f"attribute string needs {len(SLOTS)} comma-separated slots, got {len(parts)}: {text!r}")
        return cls(**{slot: (None if p in ("", UNKNOWN) else p) for slot, p in zip(SLOTS, parts, strict=True)})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "attributes") -> Attributes:
        _check_keys(data, set(SLOTS), set(), where)
        return cls(**{slot: data.get(slot) for slot in SLOTS})


@dataclass(frozen=True, kw_only=True, slots=True)
class PersonRecord:
    """One person image with everything spac knows about it.

    ``key`` is assigned by the shard writer (empty while a record travels from a source through the steps);
    ``image`` holds the encoded image bytes and never goes into the JSON.
    """

    key: str = ""
    source: str
    source_ref: str
    person_id: int
    camera: int | None = None
    tracklet: int | None = None
    attributes: Attributes = field(default_factory=Attributes)
    captions: tuple[Caption, ...] = ()
    prompt_caption: PromptCaption | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    image: bytes | None = field(default=None, repr=False, compare=False)
    image_ext: str = "jpg"

    def __post_init__(self) -> None:
        if not isinstance(self.person_id, int) or isinstance(self.person_id, bool):
            raise RecordError(f"person_id must be an int, got {self.person_id!r} ({self.source_ref})")
        for name in ("camera", "tracklet"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise RecordError(f"{name} must be an int or null, got {value!r} ({self.source_ref})")
        if self.key and ("." in self.key or "/" in self.key):
            raise RecordError(f"key must be dot- and slash-free, got {self.key!r}")

    def texts(self) -> list[str]:
        """All captions, prompt caption last: what a training sample may draw from."""
        out = [c.text for c in self.captions]
        if self.prompt_caption is not None:
            out.append(self.prompt_caption.text)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON record of the wire format (no image bytes)."""
        return {
            "schema": SCHEMA,
            "key": self.key,
            "source": self.source,
            "source_ref": self.source_ref,
            "person_id": self.person_id,
            "camera": self.camera,
            "tracklet": self.tracklet,
            "attributes": self.attributes.as_dict(),
            "captions": [_caption_to_dict(c) for c in self.captions],
            "prompt_caption": None
            if self.prompt_caption is None
            else {
                "text": self.prompt_caption.text,
                "template_id": self.prompt_caption.template_id,
                "spans": [_span_to_dict(s) for s in self.prompt_caption.spans],
            },
            "provenance": dict(self.provenance),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, image: bytes | None = None, image_ext: str = "jpg") -> PersonRecord:
        """Parse and strictly validate a JSON record; unknown fields and wrong types raise :class:`RecordError`."""
        where = f"record {data.get('key', '?')!r}" if isinstance(data, Mapping) else "record"
        if not isinstance(data, Mapping):
            raise RecordError(f"{where}: expected a JSON object, got {type(data).__name__}")
        if data.get("schema") != SCHEMA:
            raise RecordError(f"{where}: schema must be {SCHEMA!r}, got {data.get('schema')!r}")
        required = {"schema", "key", "source", "source_ref", "person_id"}
        optional = {"camera", "tracklet", "attributes", "captions", "prompt_caption", "provenance"}
        _check_keys(data, required, optional, where)
        _check_type(data, "key", str, where)
        _check_type(data, "source", str, where)
        _check_type(data, "source_ref", str, where)
        captions = data.get("captions") or []
        if not isinstance(captions, list):
            raise RecordError(f"{where}: 'captions' must be a list")
        prompt = data.get("prompt_caption")
        provenance = data.get("provenance") or {}
        if not isinstance(provenance, Mapping):
            raise RecordError(f"{where}: 'provenance' must be an object")
        try:
            return cls(
                key=data["key"],
                source=data["source"],
                source_ref=data["source_ref"],
                person_id=data["person_id"],
                camera=data.get("camera"),
                tracklet=data.get("tracklet"),
                attributes=Attributes.from_dict(data.get("attributes") or {}, where=f"{where}.attributes"),
                captions=tuple(_caption_from_dict(c, f"{where}.captions[{i}]") for i, c in enumerate(captions)),
                prompt_caption=None if prompt is None else _prompt_from_dict(prompt, f"{where}.prompt_caption"),
                provenance=dict(provenance),
                image=image,
                image_ext=image_ext,
            )
        except RecordError as err:
            if str(err).startswith(where):
                raise
            raise RecordError(f"{where}: {err}") from None


IMAGE_EXTS = ("jpg", "png")


def to_sample(record: PersonRecord) -> dict[str, Any]:
    """A WebDataset sample: ``__key__``, the image member, ``json`` (the record) and ``txt`` (first text)."""
    if not record.key:
        raise RecordError(f"record {record.source_ref!r} has no key; the shard writer assigns one")
    if record.image is None:
        raise RecordError(f"record {record.key!r} ({record.source_ref}) has no image bytes")
    if record.image_ext not in IMAGE_EXTS:
        raise RecordError(f"record {record.key!r}: image_ext must be one of {IMAGE_EXTS}, got {record.image_ext!r}")
    texts = record.texts()
    return {
        "__key__": record.key,
        record.image_ext: record.image,
        "json": json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(),
        "txt": (texts[0] if texts else "").encode(),
    }


def from_sample(sample: Mapping[str, Any]) -> PersonRecord:
    """Inverse of :func:`to_sample`; accepts raw bytes members (``json`` may also be an already decoded dict)."""
    key = sample.get("__key__", "?")
    raw = sample.get("json")
    if raw is None:
        raise RecordError(f"sample {key!r} has no 'json' member")
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RecordError(f"sample {key!r}: 'json' member is not valid UTF-8 JSON ({err})") from None
    ext = next((e for e in IMAGE_EXTS if e in sample), None)
    record = PersonRecord.from_dict(raw, image=None if ext is None else sample[ext], image_ext=ext or "jpg")
    if isinstance(key, str) and key != "?" and record.key != key:
        raise RecordError(f"sample key {key!r} differs from the record's key {record.key!r}")
    return record


# --- helpers -------------------------------------------------------------------------------------------------


def _check_text_and_spans(text: str, spans: tuple[Span, ...], what: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f"{what} text must be a non-empty string, got {text!r}")
    for span in spans:
        if span.end > len(text):
            raise RecordError(f"{what} span {span.slot} {span.start}..{span.end} lies outside a text of {len(text)} chars")


def _check_keys(data: Mapping[str, Any], required: set[str], optional: set[str], where: str) -> None:
    missing = required - data.keys()
    if missing:
        raise RecordError(f"{where}: missing field(s) {sorted(missing)}")
    unknown = data.keys() - required - optional
    if unknown:
        raise RecordError(f"{where}: unknown field(s) {sorted(unknown)}")


def _check_type(data: Mapping[str, Any], name: str, kind: type, where: str) -> None:
    if not isinstance(data[name], kind):
        raise RecordError(f"{where}: {name!r} must be {kind.__name__}, got {type(data[name]).__name__}")


def _span_to_dict(span: Span) -> dict[str, Any]:
    return {"slot": span.slot, "start": span.start, "end": span.end}


def _span_from_dict(data: Any, where: str) -> Span:
    if not isinstance(data, Mapping):
        raise RecordError(f"{where}: a span must be an object")
    _check_keys(data, {"slot", "start", "end"}, set(), where)
    return Span(slot=data["slot"], start=data["start"], end=data["end"])


def _caption_to_dict(caption: Caption) -> dict[str, Any]:
    return {
        "text": caption.text,
        "style": caption.style,
        "generator": caption.generator,
        "spans": [_span_to_dict(s) for s in caption.spans],
    }


def _caption_from_dict(data: Any, where: str) -> Caption:
    if not isinstance(data, Mapping):
        raise RecordError(f"{where}: a caption must be an object")
    _check_keys(data, {"text"}, {f.name for f in fields(Caption)}, where)
    spans = tuple(_span_from_dict(s, f"{where}.spans[{i}]") for i, s in enumerate(data.get("spans") or []))
    return Caption(
        text=data["text"], style=data.get("style", "default"), generator=data.get("generator", "unknown"), spans=spans
    )


def _prompt_from_dict(data: Any, where: str) -> PromptCaption:
    if not isinstance(data, Mapping):
        raise RecordError(f"{where}: prompt_caption must be an object or null")
    _check_keys(data, {"text", "template_id"}, {"spans"}, where)
    spans = tuple(_span_from_dict(s, f"{where}.spans[{i}]") for i, s in enumerate(data.get("spans") or []))
    return PromptCaption(text=data["text"], template_id=data["template_id"], spans=spans)
