"""plip.train: a run stopped and resumed from its checkpoint ends with the same weights as an uninterrupted run
(deterministic CPU), and the CLI resolves recipes and overrides."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from plip.cli.eval import app as eval_app
from plip.cli.train import app
from plip.data import read_raw
from plip.synthetic import write_synthetic_shards
from plip.tokenizer import train_wordpiece
from plip.train import train
from spac.config import apply_overrides, load_recipe

RECIPE = str(Path(__file__).resolve().parents[2] / "pipelines" / "demo.py") + ":debug"


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = write_synthetic_shards(
        tmp_path_factory.mktemp("shards"), identities=16, images_per_identity=4, shards=4, val_identities=4
    )
    # one vocabulary for every run: WordPiece training breaks frequency ties differently from run to run
    train_wordpiece(
        [r["json"]["captions"][0]["text"] for r in read_raw(root / "train-000000.tar")],
        root / "tokenizer",
        vocab_size=200,
    )
    return root


def _cfg(shards, out, *more):
    return apply_overrides(
        load_recipe(RECIPE),
        [
            f"data.shards={str(shards)!r}",
            f"run.out={str(out)!r}",
            f"data.tokenizer={str(shards / 'tokenizer')!r}",
            "run.deterministic=True",
            "data.num_workers=2",
            *more,
        ],
    )


def _weights(run):
    return load_file(
        str(run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip() / "objective.safetensors")
    )


def test_stop_and_resume_equals_uninterrupted(shards, tmp_path):
    # 8 batches per epoch: stopping at step 5 resumes mid-epoch; step 9 crosses into epoch 1
    full = train(_cfg(shards, tmp_path / "full", "run.max_steps=9"))
    assert full.steps == 9 and full.total_steps == 16
    part = train(_cfg(shards, tmp_path / "part", "run.max_steps=5"))
    assert part.steps == 5
    resumed = train(_cfg(shards, tmp_path / "part", "run.max_steps=9"), resume=True)
    assert resumed.steps == 9
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the per-step losses after the resume point are the uninterrupted run's
    rows = lambda run: [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]  # noqa: E731
    assert [r["loss"] for r in rows(tmp_path / "full")] == [r["loss"] for r in rows(tmp_path / "part")]
    assert resumed.val_metrics is not None and 0 <= resumed.val_metrics["R1"] <= 100
    # the exported model scores the same held-out split through plip-eval as in the trainer's validation pass
    out = tmp_path / "eval.json"
    res = CliRunner().invoke(
        eval_app,
        [
            "retrieval",
            "--model",
            str(tmp_path / "full" / "model"),
            "--shards",
            str(shards),
            "--split",
            "val",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    assert got["gallery"] == 16 and got["queries"] == 32 and got["chance_R1"] == pytest.approx(25.0)
    assert got["R1"] == pytest.approx(full.val_metrics["R1"]) and got["mAP"] == pytest.approx(full.val_metrics["mAP"])
    # and the pictures: training curves of the run, top matches beside the eval JSON
    assert (tmp_path / "full" / "curves.png").is_file()
    assert got["examples_png"] == str(tmp_path / "eval_examples.png") and (tmp_path / "eval_examples.png").is_file()


def test_cli_dry_run_and_bad_override(shards, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        app, [RECIPE, "--shards", str(shards), "--out", str(tmp_path), "--set", "optim.lr=0.01", "--dry-run"]
    )
    assert res.exit_code == 0, res.output
    cfg = json.loads(res.output)
    assert cfg["optim"]["lr"] == 0.01 and cfg["data"]["shards"] == str(shards) and cfg["run"]["out"] == str(tmp_path)
    res = runner.invoke(app, [RECIPE, "--set", "optim.nope=1", "--dry-run"])
    assert res.exit_code == 2 and "has no field 'nope'" in res.output
    res = runner.invoke(app, ["pretrain_rn50", "--dry-run"])
    assert res.exit_code == 0 and json.loads(res.output)["data"]["batch_size"] == 512
    res = runner.invoke(app, [RECIPE, "--shards", str(tmp_path / "nope"), "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "nope/index.json not found" in res.output
    assert not (tmp_path / "run").exists()  # refused before anything is written
