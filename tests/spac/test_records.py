"""spac.records: the spac/1 record, its WebDataset sample form, and strict validation with clear messages."""

import json

import pytest

from spac.records import (
    SCHEMA,
    SLOTS,
    Attributes,
    Caption,
    PersonRecord,
    PromptCaption,
    RecordError,
    Span,
    from_sample,
    to_sample,
)

TEXT = "A man with short black hair wears a red jacket."


def _record(**overrides):
    fields = dict(
        key="000003000017",
        source="demo",
        source_ref="000003_01",
        person_id=3,
        camera=2,
        tracklet=9,
        attributes=Attributes(gender="man", head="short black hair", upper="red jacket"),
        captions=(
            Caption(text=TEXT, style="cuhk", generator="human",
                    spans=(Span(slot="gender", start=2, end=5), Span(slot="head", start=11, end=27),
                           Span(slot="upper", start=36, end=46))),
            Caption(text="Second caption \u00e9.", style="icfg", generator="spac"),
        ),
        prompt_caption=PromptCaption(text="A man in a red jacket.", template_id="t42",
                                     spans=(Span(slot="upper", start=11, end=21),)),
        provenance={"seed": 0, "note": ["x", 1]},
        image=b"\xff\xd8\xffjpeg bytes",
    )
    fields.update(overrides)
    return PersonRecord(**fields)


def _json(record):
    return json.loads(to_sample(record)["json"])


def test_spans_point_at_the_phrases():
    caption = _record().captions[0]
    assert [caption.text[s.start:s.end] for s in caption.spans] == ["man", "short black hair", "red jacket"]


def test_sample_round_trip():
    record = _record()
    sample = to_sample(record)
    assert set(sample) == {"__key__", "jpg", "json", "txt"}
    assert sample["__key__"] == record.key and sample["jpg"] == record.image
    assert sample["txt"] == TEXT.encode()
    data = json.loads(sample["json"])
    assert data["schema"] == SCHEMA and data["attributes"]["belongings"] is None
    back = from_sample(sample)
    assert back == record and back.image == record.image and back.image_ext == "jpg"
    assert from_sample({**sample, "json": data}) == record  # an already decoded json member


def test_png_and_minimal_records_round_trip():
    record = PersonRecord(key="000000000001", source="folder", source_ref="a.png", person_id=0,
                          image=b"\x89PNG...", image_ext="png")
    sample = to_sample(record)
    assert "png" in sample and "jpg" not in sample and sample["txt"] == b""
    back = from_sample(sample)
    assert back == record and back.image_ext == "png" and back.prompt_caption is None and back.captions == ()
    assert record.texts() == [] and _record().texts()[-1] == "A man in a red jacket."


def test_to_sample_needs_key_image_and_known_ext():
    with pytest.raises(RecordError, match="no key"):
        to_sample(_record(key=""))
    with pytest.raises(RecordError, match="no image bytes"):
        to_sample(_record(image=None))
    with pytest.raises(RecordError, match="image_ext"):
        to_sample(_record(image_ext="gif"))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(colour="red"), r"unknown field\(s\) \['colour'\]"),
    (lambda d: d["attributes"].update(hat="cap"), r"\.attributes: unknown field\(s\) \['hat'\]"),
    (lambda d: d["captions"][0].update(lang="en"), r"\.captions\[0\]: unknown field\(s\) \['lang'\]"),
    (lambda d: d["captions"][0]["spans"][0].update(label=1), r"\.captions\[0\]\.spans\[0\]: unknown field"),
    (lambda d: d["prompt_caption"].update(style="x"), r"\.prompt_caption: unknown field"),
    (lambda d: d.pop("person_id"), r"missing field\(s\) \['person_id'\]"),
    (lambda d: d.update(schema="spac/0"), "schema must be 'spac/1'"),
])
def test_unknown_and_missing_fields_rejected(mutate, message):
    data = _json(_record())
    mutate(data)
    with pytest.raises(RecordError, match=message) as err:
        PersonRecord.from_dict(data)
    if "schema" not in message:
        assert str(err.value).startswith("record '000003000017'")


@pytest.mark.parametrize("field, value, message", [
    ("person_id", "3", "person_id must be an int"),
    ("person_id", True, "person_id must be an int"),
    ("camera", "c2", "camera must be an int or null"),
    ("tracklet", 1.5, "tracklet must be an int or null"),
    ("source", 5, "'source' must be str"),
    ("source_ref", None, "'source_ref' must be str"),
    ("captions", "text", "'captions' must be a list"),
    ("provenance", [1], "'provenance' must be an object"),
    ("prompt_caption", "text", "prompt_caption must be an object or null"),
])
def test_wrong_types_rejected_naming_the_record(field, value, message):
    data = _json(_record())
    data[field] = value
    with pytest.raises(RecordError, match=message) as err:
        PersonRecord.from_dict(data)
    assert "'000003000017'" in str(err.value)


def test_nested_value_errors_name_the_record():
    data = _json(_record())
    data["captions"][1]["text"] = ""
    with pytest.raises(RecordError, match=r"record '000003000017'.*non-empty") as err:
        PersonRecord.from_dict(data)
    assert "caption" in str(err.value)
    data = _json(_record())
    data["attributes"]["upper"] = "red, blue jacket"
    with pytest.raises(RecordError, match=r"record '000003000017'.*comma"):
        PersonRecord.from_dict(data)
    with pytest.raises(RecordError, match="expected a JSON object"):
        PersonRecord.from_dict(["not", "a", "record"])


def test_spans_outside_the_text_rejected():
    with pytest.raises(RecordError, match="outside a text of 3 chars"):
        Caption(text="abc", spans=(Span(slot="upper", start=1, end=10),))
    with pytest.raises(RecordError, match="outside"):
        PromptCaption(text="short", template_id="t", spans=(Span(slot="head", start=0, end=6),))
    data = _json(_record())
    data["captions"][0]["spans"][2]["end"] = len(TEXT) + 1
    with pytest.raises(RecordError, match=r"record '000003000017'.*outside"):
        PersonRecord.from_dict(data)
    Caption(text="abc", spans=(Span(slot="upper", start=0, end=3),))  # the last character is inside


@pytest.mark.parametrize("kwargs, message", [
    ({"slot": "hat", "start": 0, "end": 1}, "slot 'hat'"),
    ({"slot": "head", "start": 3, "end": 3}, "start < end"),
    ({"slot": "head", "start": -1, "end": 2}, "0 <= start"),
    ({"slot": "head", "start": 0.0, "end": 2}, "start < end"),
])
def test_bad_spans(kwargs, message):
    with pytest.raises(RecordError, match=message):
        Span(**kwargs)


def test_key_must_be_dot_and_slash_free():
    for key in ("a.b", "a/b"):
        with pytest.raises(RecordError, match="dot- and slash-free"):
            _record(key=key)


def test_sample_errors_name_the_sample():
    sample = to_sample(_record())
    with pytest.raises(RecordError, match="sample '000003000017' has no 'json'"):
        from_sample({k: v for k, v in sample.items() if k != "json"})
    with pytest.raises(RecordError, match="sample '000003000017': 'json' member is not valid"):
        from_sample({**sample, "json": b"{not json"})
    with pytest.raises(RecordError, match="differs from the record's key"):
        from_sample({**sample, "__key__": "000009000009"})


def test_attributes_string_round_trip():
    text = "man,black hair,black shirt,pink shorts,black shoes,unknown"
    attributes = Attributes.from_string(text)
    assert attributes.as_dict() == {"gender": "man", "head": "black hair", "upper": "black shirt",
                                    "lower": "pink shorts", "shoes": "black shoes", "belongings": None}
    assert attributes.to_string() == text
    assert Attributes().to_string() == ",".join(["unknown"] * len(SLOTS))
    assert Attributes.from_string(Attributes().to_string()) == Attributes()
    assert Attributes.from_string("woman, long hair ,,a,b,c").to_string() == "woman,long hair,unknown,a,b,c"
    assert _record().attributes.known() == {"gender": "man", "head": "short black hair", "upper": "red jacket"}
    with pytest.raises(RecordError, match="needs 6 comma-separated slots, got 7"):
        Attributes.from_string("a,b,c,d,e,f,g")
    with pytest.raises(RecordError, match="non-empty string"):
        Attributes(gender="  ")
    full = {slot: None for slot in SLOTS}
    assert Attributes.from_dict({**full, "gender": "man"}) == Attributes(gender="man")
    with pytest.raises(RecordError, match=r"unknown field\(s\) \['age'\]"):
        Attributes.from_dict({**full, "age": "old"})
    with pytest.raises(RecordError, match=r"missing field\(s\) \['belongings'"):  # all six slots are spelled out
        Attributes.from_dict({"gender": "man", "head": None, "upper": None, "lower": None, "shoes": None})
