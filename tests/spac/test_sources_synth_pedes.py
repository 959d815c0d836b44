"""SYNTH-PEDES: exact round-trip of the release JSON, the streaming source, and its error handling."""

import json

import pytest

from spac.records import Attributes, Caption, PersonRecord, PromptCaption, RecordError
from spac.sources import ImageReadError, SourceError, build_source, from_synth_pedes_entry, to_synth_pedes_entry
from spac.sources.jsonstream import iter_json_array

ENTRIES = [
    {"id": 7, "file_path": "Part1/7/1.jpg",
     "attributes": ["man,black hair,black shirt,pink shorts,black shoes,unknown"],
     "captions": ["A man in a black shirt.", "The man wears pink shorts."],
     "prompt_caption": ["A man with black hair is wearing a black shirt with pink shorts and a pair of black shoes."]},
    {"id": 7, "file_path": "Part1/7/2.jpg", "attributes": ["unknown,unknown,unknown,unknown,unknown,unknown"],
     "captions": ["One.", "Two \u00e9t\u00e9.", "Three, with \"quotes\"."], "prompt_caption": ["Prompt."]},
    {"id": 8, "file_path": "Part2/8/1.jpg", "attributes": ["woman, long hair,red coat,,white shoes,red bag"],
     "captions": ["Only one caption."], "prompt_caption": []},
    {"file_path": "Part2/8/2.jpg", "id": 8, "attributes": [], "captions": ["x"], "prompt_caption": ["p"],
     "note": {"k": [1, 2]}},
]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file_path"])
def test_entry_round_trip_is_exact(entry):
    record = from_synth_pedes_entry(entry)
    back = to_synth_pedes_entry(record)
    assert back == entry
    assert json.dumps(back, ensure_ascii=False) == json.dumps(entry, ensure_ascii=False)  # key order too


def test_entry_fields_become_record_fields():
    record = from_synth_pedes_entry(ENTRIES[0])
    assert record.person_id == 7 and record.source_ref == "Part1/7/1.jpg" and record.source == "synth-pedes"
    assert record.attributes == Attributes(gender="man", head="black hair", upper="black shirt", lower="pink shorts",
                                           shoes="black shoes", belongings=None)
    assert [c.text for c in record.captions] == ENTRIES[0]["captions"]
    assert record.prompt_caption.text == ENTRIES[0]["prompt_caption"][0]
    assert record.provenance == {}  # canonical entries need nothing extra
    odd = from_synth_pedes_entry(ENTRIES[2])
    assert odd.attributes.head == "long hair" and odd.attributes.lower is None and odd.prompt_caption is None


def test_export_of_a_record_from_elsewhere():
    record = PersonRecord(source="demo", source_ref="000001_00", person_id=1,
                          attributes=Attributes(gender="woman", upper="red jacket"),
                          captions=(Caption(text="A woman."),),
                          prompt_caption=PromptCaption(text="A woman in a red jacket.", template_id="t1"))
    entry = to_synth_pedes_entry(record, file_path="Part1/1/1.jpg")
    assert json.dumps(entry) == json.dumps({
        "id": 1, "file_path": "Part1/1/1.jpg", "attributes": ["woman,unknown,red jacket,unknown,unknown,unknown"],
        "captions": ["A woman."], "prompt_caption": ["A woman in a red jacket."]})


@pytest.mark.parametrize("bad, message", [
    ({"id": "7", "file_path": "a.jpg"}, "'id' must be an int"),
    ({"id": 7}, "file_path"),
    ({"id": 7, "file_path": "a.jpg", "attributes": "man,a,b,c,d,e"}, "list of strings"),
    ({"id": 7, "file_path": "a.jpg", "attributes": ["man,a,b"]}, "6 comma-separated"),
    ({"id": 7, "file_path": "a.jpg", "captions": ["  "]}, "non-empty"),
    ({"id": 7, "file_path": "a.jpg", "prompt_caption": ["a", "b"]}, "at most 1"),
])
def test_malformed_entries_raise_naming_the_entry(bad, message):
    with pytest.raises(RecordError, match=message) as err:
        from_synth_pedes_entry(bad)
    assert "SYNTH-PEDES entry" in str(err.value)


def _release(tmp_path, entries, *, text=None):
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("file_path"), str):
            path = tmp_path / entry["file_path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\xff\xd8\xff" + entry["file_path"].encode())
    (tmp_path / "Part1").mkdir(exist_ok=True)
    (tmp_path / "synthpedes_dataset.json").write_text(text if text is not None else json.dumps(entries, indent=1))
    return tmp_path


def test_source_streams_groups_and_reads(tmp_path):
    root = _release(tmp_path, ENTRIES)
    source = build_source("synth-pedes", root=str(root))
    groups = list(source.identities())
    assert list(build_source(source.name, **source.options).identities()) == groups
    assert [[r.source_ref for r in g] for g in groups] == [["Part1/7/1.jpg", "Part1/7/2.jpg"],
                                                            ["Part2/8/1.jpg", "Part2/8/2.jpg"]]
    assert [to_synth_pedes_entry(r) for g in groups for r in g] == ENTRIES
    assert source.read_image(groups[1][0]) == b"\xff\xd8\xffPart2/8/1.jpg"


def test_stream_parser_across_tiny_chunks(tmp_path):
    path = tmp_path / "a.json"
    values = [*ENTRIES, 12345, "s", [1, [2]], None, 3.5]
    path.write_text(json.dumps(values, indent=2))
    assert list(iter_json_array(path, chunk_chars=5)) == values
    path.write_text("  [ ]  ")
    assert list(iter_json_array(path)) == []


@pytest.mark.parametrize("text, message", [
    ('{"id": 1}', "top-level array"),
    ('[{"id": 1}, {"id": 2]', "character"),
    ('[{"id": 1} {"id": 2}]', "expected ','"),
    ('[{"id": 1}] trailing', "after the closing"),
    ('[{"id": 1},', "character"),
])
def test_malformed_json_names_the_file(tmp_path, text, message):
    root = _release(tmp_path, [], text=text)
    source = build_source("synth-pedes", root=root)
    with pytest.raises(SourceError, match=message) as err:
        list(source.identities())
    assert "synthpedes_dataset.json" in str(err.value)


def test_bad_entry_lands_in_ledger_not_crash(tmp_path):
    entries = [ENTRIES[0], {"id": 7, "file_path": "Part1/7/9.jpg", "captions": [""]}, {"file_path": 3}, ENTRIES[2]]
    source = build_source("synth-pedes", root=_release(tmp_path, entries))
    groups = list(source.identities())
    assert [[(r.source_ref, r.person_id) for r in g] for g in groups] == [
        [("Part1/7/1.jpg", 7), ("Part1/7/9.jpg", 7)], [("synthpedes_dataset.json#2", -3)], [("Part2/8/1.jpg", 8)]]
    for bad in (groups[0][1], groups[1][0]):
        with pytest.raises(ImageReadError) as err:
            source.read_image(bad)
        assert err.value.reason == "invalid_annotation" and "synthpedes_dataset.json" in str(err.value)


def test_ungrouped_ids_need_grouped_false(tmp_path):
    entries = [ENTRIES[0], ENTRIES[2], {**ENTRIES[1], "file_path": "Part1/7/3.jpg"}]
    root = _release(tmp_path, entries)
    with pytest.raises(SourceError, match="not ordered by identity"):
        list(build_source("synth-pedes", root=root).identities())
    groups = list(build_source("synth-pedes", root=root, grouped=False).identities())
    assert [[r.source_ref for r in g] for g in groups] == [["Part1/7/1.jpg", "Part1/7/3.jpg"], ["Part2/8/1.jpg"]]


def test_layout_errors(tmp_path):
    with pytest.raises(SourceError, match="synthpedes_dataset.json"):
        build_source("synth-pedes", root=tmp_path)
    (tmp_path / "synthpedes_dataset.json").write_text("[]")
    with pytest.raises(SourceError, match="Part"):
        build_source("synth-pedes", root=tmp_path)
    (tmp_path / "Part1").mkdir()
    source = build_source("synth-pedes", root=tmp_path)
    record = from_synth_pedes_entry({"id": 1, "file_path": "Part1/1/1.jpg"})
    with pytest.raises(ImageReadError) as err:
        source.read_image(record)
    assert err.value.reason == "missing_image"
