"""benchmarks/attribute_extraction.py keeps its interface: --captions/--labels/--json and the agreed keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "attribute_extraction.py"


def _label(gender: int, **yes: int) -> dict:
    base = {
        k: 1
        for k in (
            "hat",
            "backpack",
            "bag",
            "handbag",
            "upblack",
            "upwhite",
            "upred",
            "uppurple",
            "upyellow",
            "upgray",
            "upblue",
            "upgreen",
            "downblack",
            "downwhite",
            "downpink",
            "downpurple",
            "downyellow",
            "downgray",
            "downblue",
            "downgreen",
            "downbrown",
        )
    }
    base.update(gender=gender, hair=1, up=2, down=1, clothes=2, age=2, split="train")
    base.update(yes)
    return base


def test_scores_a_tiny_split(tmp_path):
    captions = [
        {
            "id": 1,
            "file_path": "Market/0001_c1s1_000001_00.jpg",
            "split": "val",
            "captions": [
                "A man in a red shirt and blue jeans carries a black backpack.",
                "The man wears a red t-shirt, black pants and a bag.",
            ],
        },
        {
            "id": 2,
            "file_path": "Market/0002_c1s1_000001_00.jpg",
            "split": "val",
            "captions": ["A woman in a white blouse and a black skirt.", "She wears white and gray pants."],
        },
        {"id": 3, "file_path": "CUHK01/0001.png", "split": "val", "captions": ["A man."]},
    ]
    labels = {
        "identities": {"0001": _label(1, upred=2, downblue=2, backpack=2), "0002": _label(1, upwhite=2, downblack=2)}
    }
    (tmp_path / "c.json").write_text(json.dumps(captions))
    (tmp_path / "l.json").write_text(json.dumps(labels))
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--captions",
            str(tmp_path / "c.json"),
            "--labels",
            str(tmp_path / "l.json"),
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    r = json.loads(out.stdout)
    assert r["n_captions"] == 4
    assert r["gender_accuracy"] == 0.5  # identity 0002 is labelled male but captioned as a woman
    assert r["upper_colour_agreement"] == 1.0 and r["upper_colour_n"] == 3
    assert r["lower_colour_agreement"] == 0.5  # "black pants" vs blue, "white and gray pants" vs black
    assert r["carried_recall"] == 1.0 and r["carried_n"] == 2
    for key in ("gender_accuracy", "upper_colour_agreement", "lower_colour_agreement", "carried_recall"):
        assert 0.0 <= r[key] <= 1.0
    assert set(r["per_attribute"]) >= {
        "female",
        "lower_short",
        "lower_dress",
        "backpack",
        "bag",
        "handbag",
        "hat",
        "long_hair",
    }


def test_identity_vote_fixes_a_minority_caption_and_drops_a_split_identity(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("attribute_extraction", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    captions = [
        {"id": 3, "file_path": "Market/0003_c1s1_000001_00.jpg", "captions": ["A woman in red.", "She wears a dress."]},
        {"id": 3, "file_path": "Market/0003_c2s1_000001_00.jpg", "captions": ["A woman walks.", "A man in red."]},
        {"id": 4, "file_path": "Market/0004_c1s1_000001_00.jpg", "captions": ["A man in blue.", "A woman in blue."]},
    ]
    labels = {"identities": {"0003": _label(2), "0004": _label(1)}}
    (tmp_path / "c.json").write_text(json.dumps(captions))
    (tmp_path / "l.json").write_text(json.dumps(labels))
    r = bench.identity_vote_gender(tmp_path / "c.json", tmp_path / "l.json")
    # 0003: 3 of 4 say woman (share 0.75 > 0.7) -> all four captions take "woman", all right;
    # 0004: 1 of 2 (share 0.5) -> the identity is dropped, 2 of 6 captions.
    assert r["gender_accuracy_identity_vote"] == 1.0
    assert r["gender_identity_vote_dropped"] == 2 / 6
