"""Dataset cards (`spac card`): counts vs a hand count, drops, YAML front matter, re-render keeps user edits."""

import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from card_fixtures import built, copy_build, hand_count  # noqa: E402

from spac.cards import CardConfig, CardError, card_problems, render_card, split_front_matter  # noqa: E402

NO_PLOT = CardConfig(plot=False)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return built(tmp_path_factory)


def _block(text: str, name: str) -> str:
    return re.search(rf"<!-- spac:auto:{name} -->\n(.*?)\n<!-- /spac:auto:{name} -->", text, re.DOTALL).group(1)


def _rows(block: str) -> dict[str, list[str]]:
    """Markdown table rows of a block, keyed by their first cell."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines() if line.startswith("| ")]
    return {r[0]: r[1:] for r in rows}


def test_generate_writes_the_card_and_figure(out):
    text = (out / "README.md").read_text()
    assert (out / "stats.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](stats.png)" in _block(text, "figure")
    assert card_problems(out) == []


def test_counts_match_a_hand_count(out):
    hand, text = hand_count(out), (out / "README.md").read_text()
    rows = _rows(_block(text, "summary"))
    drops_by_split = {"train": 4, "val": 1}  # see card_fixtures: 2 capped + 1 missing + 1 error; 1 attribute gap
    for split, h in hand["splits"].items():
        shards, samples, ids, inputs, dropped, _ = rows[split]
        assert (int(shards), int(samples), int(ids)) == (h["shards"], h["samples"], len(h["ids"]))
        assert int(dropped) == drops_by_split[split] and int(inputs) == h["samples"] + drops_by_split[split]
    assert rows["**total**"][1] == str(hand["records"]) == "25"
    attrs = _rows(_block(text, "attributes"))
    for slot in ("gender", "head", "belongings"):
        assert attrs[slot][0] == f"{100 * hand['unknown'][slot] / hand['records']:.1f}%"
    assert attrs["head"][0] == "20.0%"  # identity 4's captioner attributes leave head unknown: 5 of 25
    captions = _block(text, "captions")
    assert "captions per image: 2: 100.0%" in captions and hand["captions"] == {2: 25}
    assert f"`cuhk` {hand['styles']['cuhk']}, `icfg` {hand['styles']['icfg']}" in captions
    assert _rows(captions)["captions"][0] == "50"


def test_drops_by_reason_appear(out):
    hand, text = hand_count(out), (out / "README.md").read_text()
    rows = _rows(_block(text, "drops"))
    for reason, n in hand["drops"].items():
        assert rows[reason][-1] == str(n)
    assert set(hand["drops"]) == {"identity_capped", "missing_captions", "captioner_error", "attribute_quality"}
    assert rows["attribute_quality"] == ["0", "1", "1"]  # train, val, total
    assert rows["malformed_json"] == ["1"] and rows["unknown_source_ref"] == ["1"]  # run ledger


def test_front_matter_parses_and_points_at_the_tars(out):
    import datasets

    meta, body = split_front_matter((out / "README.md").read_text(), "README.md")
    assert yaml.safe_load((out / "README.md").read_text().split("---\n")[1]) == meta
    assert meta["license"] == "mit" and meta["size_categories"] == ["n<1K"] and "webdataset" in meta["tags"]
    assert meta["pretty_name"] == "spac demo person dataset" and body.lstrip().startswith("# spac demo person")
    assert "image-to-text" in meta["task_categories"]
    (config,) = meta["configs"]
    files = {f["split"]: sorted(p.name for p in out.glob(f["path"])) for f in config["data_files"]}
    assert files == {"train": ["train-000000.tar", "train-000001.tar"], "validation": ["val-000000.tar"]}
    hand = hand_count(out)
    data_files = {f["split"]: str(out / f["path"]) for f in config["data_files"]}
    ds = datasets.load_dataset("webdataset", data_files=data_files, streaming=True)
    assert sum(1 for _ in ds["validation"]) == hand["splits"]["val"]["samples"]


def test_rerender_keeps_user_edits_outside_blocks(tmp_path_factory, tmp_path):
    out = copy_build(tmp_path_factory, tmp_path)
    card = out / "README.md"
    original = card.read_text()
    meta, body = split_front_matter(original, "x")
    meta.update(license="cc-by-4.0", tags=["mine"], configs="broken")
    edited_body = body.replace("## Intended use and limitations", "## Intended use and limitations\n\nMY NOTE.")
    edited_body = edited_body.replace(_block(body, "summary"), "stale numbers")  # inside a block: regenerated
    card.write_text(f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{edited_body}\nTrailing user text.\n")
    render_card(out, config=NO_PLOT)
    again = card.read_text()
    meta2, body2 = split_front_matter(again, "x")
    assert "MY NOTE." in body2 and body2.endswith("Trailing user text.\n")
    assert meta2["license"] == "cc-by-4.0" and meta2["tags"] == ["mine"]
    assert meta2["configs"] == split_front_matter(original, "x")[0]["configs"]  # spac-owned key restored
    assert _block(again, "summary") == _block(original, "summary") and "stale numbers" not in again
    render_card(out, config=NO_PLOT)
    assert card.read_text() == again  # idempotent


def test_template_and_bad_cards_give_clear_errors(tmp_path_factory, tmp_path):
    out = copy_build(tmp_path_factory, tmp_path)
    template = tmp_path / "mine.md"
    template.write_text("---\nlicense: other\n---\n# {{pretty_name}}\n\nIntro.\n\n"
                        "<!-- spac:auto:drops -->\n<!-- /spac:auto:drops -->\n")
    render_card(out, template=template, config=CardConfig(plot=False, pretty_name="Tiny persons"))
    meta, body = split_front_matter((out / "README.md").read_text(), "x")
    assert meta["license"] == "other" and meta["pretty_name"] == "Tiny persons"
    assert body.lstrip().startswith("# Tiny persons\n\nIntro.") and "identity_capped" in body and "spac:auto:summary" not in body
    template.write_text("# x\n<!-- spac:auto:nonsense -->\n<!-- /spac:auto:nonsense -->\n")
    with pytest.raises(CardError, match=r"mine\.md.*unknown auto block.*nonsense"):
        render_card(out, template=template, config=NO_PLOT)
    template.write_text("# x\n<!-- spac:auto:drops -->\nno end\n")
    with pytest.raises(CardError, match=r"mine\.md.*not closed"):
        render_card(out, template=template, config=NO_PLOT)
    (out / "README.md").write_text("# My own card without blocks\n")
    with pytest.raises(CardError, match=rf"{re.escape(str(out / 'README.md'))}.*no <!-- spac:auto"):
        render_card(out, config=NO_PLOT)
    assert card_problems(out) and "configs" in card_problems(out)[0]


def test_cli_card(tmp_path_factory, tmp_path):
    from typer.testing import CliRunner

    from spac.cli import app

    out = copy_build(tmp_path_factory, tmp_path)
    (out / "README.md").unlink()
    res = CliRunner().invoke(app, ["card", str(out), "--no-plot", "--pretty-name", "CLI card"])
    assert res.exit_code == 0, res.output
    assert split_front_matter((out / "README.md").read_text(), "x")[0]["pretty_name"] == "CLI card"
    res = CliRunner().invoke(app, ["card", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "not a finished shard folder" in res.output


def test_builtin_template_when_data_cards_is_not_installed(tmp_path_factory, tmp_path, monkeypatch):
    """A wheel install has no data_cards/ folder: the card still gets every auto block and its front matter."""
    import spac.cards
    from spac.card_blocks import BLOCKS

    folder = copy_build(tmp_path_factory, tmp_path)
    (folder / "README.md").unlink()
    monkeypatch.setattr(spac.cards, "DEFAULT_TEMPLATE", tmp_path / "absent" / "default.md")
    text = render_card(folder, config=CardConfig(plot=False, pretty_name="Wheel card")).read_text()
    assert "\n# Wheel card\n" in text and card_problems(folder) == []
    for name in BLOCKS:
        assert _block(text, name).strip(), name
