"""The data commands of the `spac` CLI: generate (flags, --set, --dry-run), inspect, validate."""

import json
from pathlib import Path

from typer.testing import CliRunner

from spac.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_generate_inspect_validate(tmp_path):
    out = tmp_path / "shards"
    res = runner.invoke(app, ["generate", "--src", "demo", "--opt", "identities=6", "--opt", "images_per_identity=5",
                              "--out", str(out), "--seed", "2", "--quiet", "--set", "shards.max_samples=10"])
    assert res.exit_code == 0, res.output
    assert "input records 30, kept 30" in res.output
    index = json.loads((out / "index.json").read_text())
    assert index["config"]["seed"] == 2 and index["config"]["source"]["options"]["identities"] == 6
    assert [s["samples"] for s in index["splits"]["train"]["shards"]] == [10, 10, 10]

    res = runner.invoke(app, ["inspect", str(out), "--n", "2"])
    assert res.exit_code == 0, res.output
    assert "train: 3 shards, 30 samples" in res.output and "000000000001" in res.output
    assert "prompt [" in res.output and "[upper: " in res.output
    res = runner.invoke(app, ["inspect", str(out / "train-000002.tar"), "--n", "1"])
    assert res.exit_code == 0 and "000002000000" in res.output

    res = runner.invoke(app, ["validate", str(out)])
    assert res.exit_code == 0 and "OK: 3 shards, 30 samples" in res.output
    (out / "train-000001.tar").unlink()
    tar = out / "train-000002.tar"
    tar.write_bytes(tar.read_bytes()[:-20000])
    res = runner.invoke(app, ["validate", str(out)])
    assert res.exit_code == 1
    assert "train-000001.tar: missing shard" in res.output
    assert "train-000002.tar:" in res.output and "bytes on disk" in res.output


def test_dry_run_prints_the_resolved_config(tmp_path):
    res = runner.invoke(app, ["generate", "--src", "demo", "--out", str(tmp_path), "--dry-run", "--val-fraction", "0.1",
                              "--set", "gender_vote.enabled=False", "--root", "/data/x"])
    assert res.exit_code == 0, res.output
    cfg = json.loads(res.output)
    assert cfg["val_fraction"] == 0.1 and cfg["gender_vote"]["enabled"] is False
    assert cfg["source"] == {"name": "demo", "options": {"root": "/data/x"}}
    assert not (tmp_path / "index.json").exists()


def test_generate_needs_a_source_and_rejects_bad_overrides(tmp_path):
    res = runner.invoke(app, ["generate", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "--src" in res.output
    res = runner.invoke(app, ["generate", "--src", "demo", "--out", str(tmp_path), "--set", "shards.nope=1"])
    assert res.exit_code != 0
    assert res.exit_code == 2 and "no field 'nope'" in res.output
    res = runner.invoke(app, ["generate", "--src", "demo", "--out", str(tmp_path), "--val-fraction", "1.5"])
    assert res.exit_code == 2 and "val_fraction must be in [0, 1)" in res.output


def test_recipe(tmp_path):
    res = runner.invoke(app, ["generate", "--recipe", f"{ROOT}/pipelines/spac_demo.py:spac_demo_tiny", "--out", str(tmp_path),
                              "--dry-run"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["source"]["options"]["identities"] == 20


def test_unusable_input_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["generate", "--src", "folder", "--root", str(tmp_path / "missing"), "--out",
                              str(tmp_path / "out"), "--quiet"])
    assert res.exit_code == 2
    assert "error:" in res.output and "missing" in res.output
