"""Template mining, corpus readers (good and malformed), and the `spac mine` / `spac text-report` commands."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spac.cli import app
from spac.records import Attributes
from spac.text.corpus import CorpusError, read_corpus
from spac.text.extract import extract_attributes
from spac.text.mine import MineConfig, mine_templates, template_of
from spac.text.render import render_prompt, render_template
from spac.text.templates import read_library

DEVDATA = Path(__file__).resolve().parents[3] / "shared" / "devdata" / "cuhk_pedes_val.json"
CAPTIONS = [
    "A woman with long black hair is wearing a white t-shirt and blue jeans. She carries a red handbag.",
    "The man is wearing a gray jacket with black pants and white sneakers. He has a black backpack on his back.",
    "A man in a red shirt, a pair of black shorts and a pair of white shoes.",
    "A man in a blue shirt, a pair of gray shorts and a pair of black shoes.",
    "The woman has short brown hair and wears a pink blouse with a black skirt.",
    "THE WOMAN IS WEARING A GREEN COAT AND BLACK PANTS WITH HER BAG.",
    "He wears a black shirt and she wears a dress.",  # mixed gender
    "A man in a red shirt. His shirt is black and he is wearing jeans.",  # repeated slot / stray colour
    "The person is wearing a yellow shirt and khaki pants and is carrying a bag.",
    "",  # empty
]


def _records(captions):
    return [{"id": i, "file_path": f"x/{i}.jpg", "split": "val", "captions": [c, c]} for i, c in enumerate(captions)]


def test_template_of_normalises_pronouns_and_slots():
    t, reason = template_of(CAPTIONS[0], cfg=MineConfig(min_word_count=0))
    assert reason == "ok"
    assert t == "A {gender} with {head} is wearing a {upper} and {lower}. {He} carries a {belongings}."
    t, _ = template_of(CAPTIONS[5], cfg=MineConfig(min_word_count=0))
    assert t == "The {gender} is wearing a {upper} and {lower} with {his} {belongings}."
    assert template_of(CAPTIONS[6], cfg=MineConfig(min_word_count=0)) == (None, "mixed_gender")
    assert template_of(CAPTIONS[7], cfg=MineConfig(min_word_count=0))[0] is None


def test_mining_is_deterministic_and_well_formed(tmp_path):
    lib1, outcome = mine_templates(CAPTIONS[:-1] * 2, style="t", cfg=MineConfig(min_word_count=0))
    lib2, _ = mine_templates(CAPTIONS[:-1] * 2, style="t", cfg=MineConfig(min_word_count=0))
    assert lib1 == lib2 and outcome["ok"] == 14
    # "A man in a {upper}, a pair of {lower} and a pair of {shoes}." is mined from two captions, four times.
    counts = {t.text: t.count for t in lib1.templates}
    assert counts["A {gender} in a {upper}, a pair of {lower} and a pair of {shoes}."] == 4
    assert len({t.id for t in lib1.templates}) == len(lib1.templates)
    for t in lib1.templates:
        attrs = Attributes(
            gender="woman" if t.gendered else None,
            **{
                s: v
                for s, v in {
                    "head": "short gray hair",
                    "upper": "navy hoodie",
                    "lower": "tan shorts",
                    "shoes": "red boots",
                    "belongings": "purple bag",
                }.items()
                if s in t.slots
            },
        )
        assert extract_attributes(render_template(t.text, attrs)[0]) == attrs


def test_mine_cli_writes_identical_files_and_the_style_renders(tmp_path):
    src = tmp_path / "reid_raw.json"
    src.write_text(json.dumps(_records(CAPTIONS)))
    runner = CliRunner()
    outs = []
    for k in range(2):
        out = tmp_path / f"lib{k}.json"
        res = runner.invoke(
            app,
            [
                "mine",
                str(src),
                "--style",
                "mini",
                "--out",
                str(out),
                "--quiet",
                "--min-word-count",
                "0",
                "--ledger",
                str(tmp_path / "ledger.jsonl"),
            ],
        )
        assert res.exit_code == 0, res.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert "empty_caption" in res.output and "distinct templates" in res.output
    entries = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    assert {"ref": "reid_raw.json:9:0", "reason": "empty_caption", "stage": "read"} in entries
    assert {"ref": "reid_raw.json:6:1", "reason": "mixed_gender", "stage": "template"} in entries
    kept = sum(t.count for t in read_library(tmp_path / "lib0.json").templates)
    assert kept + sum(e["stage"] == "template" for e in entries) == 18  # every caption accounted for
    lib = read_library(tmp_path / "lib0.json")
    assert lib.style == "mini" and lib.source["skipped"] == {"empty_caption": 2}
    groups = json.loads((tmp_path / "lib0.json").read_text())["groups"]
    assert groups["gendered"]["upper+lower+shoes"] == 1 and groups["neutral"] == {"upper+lower+belongings": 1}
    attrs = Attributes(gender="man", upper="blue coat", lower="gray jeans", shoes="white boots")
    prompt = render_prompt(attrs, style=str(tmp_path / "lib0.json"), seed=3)
    assert prompt.template_id.startswith(("mini-", "default-"))
    assert extract_attributes(prompt.text) == attrs


def test_text_report_cli_prints_and_plots(tmp_path):
    src = tmp_path / "caps.jsonl"
    src.write_text("\n".join(json.dumps({"text": c}) for c in CAPTIONS) + '\n{"source_ref": "x", "error": "boom"}\n')
    res = CliRunner().invoke(app, ["text-report", str(src), "--plot", str(tmp_path / "r.png"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["n_captions"] == 9
    assert report["skipped"] == {"empty_caption": 1, "error_line: boom": 1}
    assert report["slot_fill"]["upper"] == pytest.approx(9 / 9)
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_corpus_layouts(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "data_captions.json").write_text(
        json.dumps([{"id": 1, "img_path": "1.jpg", "split": "train", "captions": ["A man.", 3, "  "]}])
    )
    corpus = read_corpus(tmp_path / "a")
    assert corpus.captions == ["A man."] and corpus.skipped == {"not_a_string": 1, "empty_caption": 1}
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "part-00000.jsonl").write_text(json.dumps({"captions": [{"text": "A woman.", "style": "x"}]}))
    (tmp_path / "b" / "part-00001.jsonl").write_text(json.dumps({"caption": "A girl."}) + "\n")
    assert read_corpus(tmp_path / "b").captions == ["A woman.", "A girl."]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("x.json", b'{"annotations": []}', "wrong layout: top level is a JSON dict"),
        ("x.json", b'[{"id": 1, "file_path": "a.jpg"}]', "record 0 has no 'captions' list"),
        ("x.json", b'[{"captions": ["caf\xe9"]}]', "not UTF-8 text (invalid byte at offset"),
        ("x.json", b"[{", "not valid JSON"),
        ("x.jsonl", b'{"captions": ["ok"]}\n{"foo": 1}\n', "line 2: wrong layout"),
        ("x.jsonl", b"\xff\xfe\n", "line 1 is not UTF-8"),
    ],
)
def test_malformed_corpora_give_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CorpusError, match="x.jsonl?: .*" + message.replace("(", r"\(")):
        read_corpus(path)
    res = CliRunner().invoke(app, ["mine", str(path), "--style", "s", "--out", str(tmp_path / "o.json")])
    assert res.exit_code == 2 and "error:" in res.output


def test_empty_corpus_is_an_error(tmp_path):
    path = tmp_path / "reid_raw.json"
    path.write_text(json.dumps(_records(["", " "])))
    res = CliRunner().invoke(app, ["mine", str(path), "--style", "s", "--out", str(tmp_path / "o.json")])
    assert res.exit_code == 2 and "no usable captions" in res.output
    with pytest.raises(CorpusError, match="not found"):
        read_corpus(tmp_path / "missing.json")


@pytest.mark.skipif(not DEVDATA.is_file(), reason="shared devdata is absent")
def test_devdata_validation_captions_give_500_templates():
    corpus = read_corpus(DEVDATA)
    lib, outcome = mine_templates(corpus.captions, style="cuhk")
    assert len(lib.templates) >= 500, outcome
    assert len({t.text.lower() for t in lib.templates}) == len(lib.templates)
    rng = random.Random(0)
    values = {
        "head": ["short black hair", "long hair", "curly blonde hair"],
        "upper": ["white t-shirt", "dark blue jacket", "red and black striped shirt"],
        "lower": ["blue jeans", "gray skirt", "khaki shorts"],
        "shoes": ["white sneakers", "black boots"],
        "belongings": ["black backpack", "red handbag", "bag"],
    }
    for t in lib.templates:  # every mined template renders grammatically enough to extract back
        attrs = Attributes(
            gender=rng.choice(["man", "woman"]) if t.gendered else None, **{s: rng.choice(values[s]) for s in t.slots}
        )
        assert extract_attributes(render_template(t.text, attrs)[0]) == attrs, t.text


def test_text_report_prints_a_table(tmp_path):
    src = tmp_path / "reid_raw.json"
    src.write_text(json.dumps(_records(CAPTIONS)))
    res = CliRunner().invoke(app, ["text-report", str(src)])
    assert res.exit_code == 0, res.output
    assert (
        "slot fill" in res.output and "templates" in res.output and "18 (skipped: {'empty_caption': 2})" in res.output
    )


def test_text_report_compares_corpora(tmp_path):
    human = tmp_path / "reid_raw.json"
    human.write_text(json.dumps(_records(CAPTIONS)))
    synthetic = tmp_path / "synthetic.jsonl"
    synthetic.write_text(
        "\n".join(
            json.dumps({"text": render_prompt(Attributes(gender="man", upper="red coat"), seed=k).text})
            for k in range(5)
        )
    )
    res = CliRunner().invoke(
        app, ["text-report", str(human), str(synthetic), "--plot", str(tmp_path / "c.png"), "--json"]
    )
    assert res.exit_code == 0, res.output
    reports = json.loads(res.output)
    assert reports[str(synthetic)]["slot_fill"] == {
        "gender": 1.0,
        "head": 0.0,
        "upper": 1.0,
        "lower": 0.0,
        "shoes": 0.0,
        "belongings": 0.0,
    }
    assert reports[str(human)]["n_captions"] == 18
    assert (tmp_path / "c.png").stat().st_size > 1000
