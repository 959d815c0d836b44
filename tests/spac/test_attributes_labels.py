"""Lexicon compilation and dataset label -> six-slot mappings (PA-100K, PETA, RAP, Market-1501)."""

from __future__ import annotations

import json

import pytest

from spac.attribute_labels import (
    LabelError,
    attributes_from_label_vector,
    attributes_from_labels,
    read_market1501_labels,
)
from spac.attributes import COLOUR, NOUN, PERSON, Lexicon, LexiconError, lexicon
from spac.records import Attributes
from spac.text.extract import extract_attributes
from spac.text.render import render_prompt


def test_lexicon_variants_and_token_forms():
    lex = lexicon()
    assert lex.colours["grey"] == "gray" and lex.colours["navy"] == "navy"
    assert lex.colour_families["navy"] == "blue"
    kinds = {seq: e for seq, e in lex.lookup["t"]}
    assert kinds[("t", "-", "shirt")].canonical == "t-shirt" and kinds[("t", "shirt")].canonical == "t-shirt"
    assert {e.canonical for _, e in lex.lookup["tshirt"]} == {"t-shirt"}
    assert lex.lookup["jackets"][0][1].canonical == "jacket"  # automatic plural
    assert lex.lookup["lady"][0][1].kind == PERSON and lex.lookup["lady"][0][1].gender == "woman"
    assert lex.nouns["lower"]["jeans"].plural and lex.nouns["head"]["hair"].mass
    assert lex.lookup["black"][0][1].kind == COLOUR and lex.lookup["sneakers"][0][1].kind == NOUN
    with pytest.raises(LexiconError, match="noun slot 'feet'"):
        Lexicon(
            {
                "colours": {},
                "shades": {},
                "colour_suffixes": {},
                "descriptors": [],
                "nouns": {"feet": {}},
                "persons": {},
                "pronouns": {},
            }
        )
    with pytest.raises(LexiconError, match="malformed"):
        Lexicon({"colours": {}})


def test_market1501_codes():
    labels = {
        "gender": 2,
        "hair": 2,
        "up": 2,
        "down": 2,
        "clothes": 1,
        "hat": 1,
        "backpack": 2,
        "bag": 1,
        "handbag": 2,
        "upwhite": 2,
        "upred": 1,
        "downblack": 2,
        "downblue": 1,
        "age": 2,
    }
    a = attributes_from_labels(labels, dataset="market1501")
    assert a == Attributes(
        gender="woman", head="long hair", upper="white t-shirt", lower="black skirt", belongings="backpack and handbag"
    )
    labels.update(gender=1, hair=1, up=1, down=1, clothes=2, hat=2, backpack=1, handbag=1, upred=2)
    a = attributes_from_labels(labels, dataset="market1501")
    assert a == Attributes(
        gender="man", head="short hair and hat", upper="long-sleeved white and red shirt", lower="black pants"
    )


def test_pa100k_peta_rap():
    names = ["Female", "Hat", "Backpack", "ShortSleeve", "Shorts", "boots", "UpperPlaid"]
    a = attributes_from_label_vector([1, 1, 1, 1, 1, 0, 1], names, dataset="pa100k")
    assert a == Attributes(gender="woman", head="hat", upper="plaid t-shirt", lower="shorts", belongings="backpack")
    a = attributes_from_labels(
        {
            "personalMale": 1,
            "hairShort": 1,
            "hairBlack": 1,
            "upperBodyJacket": 1,
            "upperBodyBlue": 1,
            "lowerBodyJeans": 1,
            "footwearSneaker": 1,
            "footwearWhite": 1,
            "carryingMessengerBag": 1,
            "carryingNothing": 0,
        },
        dataset="peta",
    )
    assert a.to_string() == "man,short black hair,blue jacket,jeans,white sneakers,messenger bag"
    a = attributes_from_labels(
        {
            "Female": 0,
            "hs-LongHair": 1,
            "ub-Sweater": 1,
            "up-Green": 1,
            "lb-Skirt": 1,
            "attach-HandBag": 1,
            "shoes-Boots": 1,
            "shoes-Black": 1,
        },
        dataset="rap",
    )
    assert a.to_string() == "man,long hair,green sweater,skirt,black boots,handbag"
    assert attributes_from_labels({}, dataset="rap") == Attributes()


def test_label_errors(tmp_path):
    with pytest.raises(LabelError, match="unknown label dataset 'celeba'"):
        attributes_from_labels({}, dataset="celeba")
    with pytest.raises(LabelError, match="2 values for 3 attribute names"):
        attributes_from_label_vector([1, 0], ["a", "b", "c"], dataset="pa100k")
    bad = tmp_path / "m.json"
    bad.write_text("[]")
    with pytest.raises(LabelError, match="m.json: not a Market-1501 attribute file"):
        read_market1501_labels(bad)


def test_mapped_labels_render_and_extract_back(tmp_path):
    path = tmp_path / "market.json"
    identities = {}
    for i in range(40):
        identities[f"{i:04d}"] = {
            "gender": 1 + i % 2,
            "hair": 1 + i // 2 % 2,
            "up": 1 + i // 4 % 2,
            "down": 1 + i // 8 % 2,
            "clothes": 1 + i // 16 % 2,
            "hat": 1 + i % 3 // 2,
            "backpack": 1 + i % 5 // 4,
            "bag": 1 + i % 7 // 6,
            "handbag": 1,
            "upblack": 1 + i % 3 // 2,
            "downblue": 1 + i % 2,
        }
    path.write_text(json.dumps({"identities": identities}))
    labels = read_market1501_labels(path)
    assert len(labels) == 40
    for k, attrs in enumerate(labels.values()):
        assert extract_attributes(render_prompt(attrs, seed=k).text) == attrs
