"""Extractor: spans with exact offsets, the six-slot attribute string, coordination, hyphens, possessives, typos."""

from __future__ import annotations

import pytest

from spac.records import Attributes, Span
from spac.text.extract import extract_attribute_string, extract_attributes, extract_spans


def _spans(text: str) -> list[tuple[str, str]]:
    return [(s.slot, text[s.start : s.end]) for s in extract_spans(text)]


def test_dark_blue_jacket_span_is_chars_2_to_18():
    assert extract_spans("a dark blue jacket") == (Span(slot="upper", start=2, end=18),)


def test_full_caption_gives_six_slot_string():
    text = (
        "A man with short black hair is wearing a red jacket, blue jeans and white sneakers. "
        "He carries a black backpack."
    )
    assert extract_attribute_string(text) == "man,short black hair,red jacket,blue jeans,white sneakers,black backpack"
    assert _spans(text) == [
        ("gender", "man"),
        ("head", "short black hair"),
        ("upper", "red jacket"),
        ("lower", "blue jeans"),
        ("shoes", "white sneakers"),
        ("belongings", "black backpack"),
    ]


def test_unknown_slots_are_none():
    a = extract_attributes("The person is wearing gray shorts.")
    assert a == Attributes(lower="gray shorts")
    assert a.to_string() == "unknown,unknown,unknown,gray shorts,unknown,unknown"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("She wears black and white shoes.", [("shoes", "black and white shoes")]),
        ("a black jacket and white shoes", [("upper", "black jacket"), ("shoes", "white shoes")]),
        ("a blue, white and red striped shirt", [("upper", "blue, white and red striped shirt")]),
        ("a black/white bag", [("belongings", "black/white bag")]),
        ("a light-colored short-sleeved t-shirt", [("upper", "light-colored short-sleeved t-shirt")]),
        ("a dark-blue tank-top", [("upper", "dark-blue tank-top")]),
    ],
)
def test_coordination_and_hyphenation(text, expected):
    assert _spans(text) == expected


def test_values_are_canonical_and_comma_free():
    a = extract_attributes("A lady in a grey tee shirt, a blue, white and red skirt and balck sneaker")
    assert a.gender == "woman"
    assert a.upper == "gray t-shirt"
    assert a.lower == "blue white and red skirt"
    assert a.shoes == "black sneakers"


def test_possessives_and_determiners_stay_outside_phrases():
    text = "The man's black jacket is over his khaki pants."
    assert _spans(text) == [("gender", "man"), ("upper", "black jacket"), ("lower", "khaki pants")]


def test_several_phrases_per_slot_are_joined_in_order():
    a = extract_attributes("A woman in a black jacket over a white t-shirt, with a red purse and a black backpack.")
    assert a.upper == "black jacket and white t-shirt"
    assert a.belongings == "red purse and black backpack"


def test_noun_used_as_modifier_keeps_its_form():
    assert extract_attributes("a navy blue jean jacket").upper == "navy blue jean jacket"


def test_recurring_typos():
    a = extract_attributes("A man in a white tshirt, kahki pants, and a back pack.")
    assert (a.upper, a.lower, a.belongings) == ("white t-shirt", "khaki pants", "backpack")


def test_predicate_colours_join_a_bare_noun():
    text = "His pants are beige and his shoes are gray and white. Her shoes are black high-heels."
    a = extract_attributes(text)
    assert (a.lower, a.shoes) == ("beige pants", "gray and white shoes and black heels")
    assert ("shoes", "gray and white") in _spans(text) and ("lower", "beige") in _spans(text)
    assert extract_attributes("his black shirt is red").upper == "black shirt"  # coloured phrases keep theirs


def test_top_of_is_not_a_garment():
    assert extract_attributes("A woman holds a box on top of her bag.").upper is None


@pytest.mark.parametrize(
    "text, gender",
    [
        ("The woman is wearing a dress. She has a bag.", "woman"),
        ("A person with a backpack. He is walking.", "man"),
        ("The pedestrian wears jeans.", None),
        ("A girl in a skirt", "woman"),
    ],
)
def test_gender_vote(text, gender):
    assert extract_attributes(text).gender == gender


def test_spans_are_sorted_valid_and_inside_text():
    text = "A woman with long brown hair wears a pink blouse, a gray skirt and black boots, carrying a red handbag."
    spans = extract_spans(text)
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert {s.slot for s in spans} == {"gender", "head", "upper", "lower", "shoes", "belongings"}


def test_demo_vocabulary_extracts_back():
    from spac.sources.demo import demo_vocabulary

    for slot, values in demo_vocabulary().items():
        for value in values:
            if slot == "gender":
                assert extract_attributes(f"A {value} walks.").gender == value
            else:
                assert getattr(extract_attributes(f"It is {value}."), slot) == value, value


def test_text_modules_import_neither_torch_nor_spacy():
    import subprocess
    import sys

    code = (
        "import spac.text.extract, spac.text.render, spac.text.mine, spac.text.report, spac.attribute_labels, "
        "spac.cli.text, sys; print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'spacy', 'thinc'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
