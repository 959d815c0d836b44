"""``spac train-captioner`` on the tiny demo recipe: log, checkpoint, resume, eval.json; CLI and import rules."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spac.cli import app

ROOT = Path(__file__).parents[2]
RECIPE = str(ROOT / "pipelines" / "captioner_demo.py") + ":captioner_tiny"


def test_train_resume_checkpoint_and_eval(tmp_path):
    from spac.captioner.checkpoint import load_captioner

    out = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(app, ["train-captioner", RECIPE, "--out", str(out), "--set", "max_steps=2"])
    assert res.exit_code == 0, res.output
    events = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert {"start", "step", "val", "sample", "eval"} <= {e["event"] for e in events}
    saved = json.loads((out / "state" / "trainer.json").read_text())
    assert saved["step"] == 2 and saved["elapsed_s"] > 0
    ev = json.loads((out / "eval.json").read_text())
    slots = {"gender", "head", "upper", "lower", "shoes", "belongings"}
    assert set(ev["slot_accuracy"]) == slots and set(ev["majority_baseline"]) == slots
    assert 0.0 <= ev["caption_attribute_agreement"] <= 1.0
    assert (out / "report.png").stat().st_size > 10_000  # losses, lr, slot accuracy vs baselines
    assert set(ev["chance"]) == slots and all(0 < v <= 1 for v in ev["chance"].values())
    assert all(ev["slot_word_f1"][s] >= ev["slot_accuracy"][s] for s in slots)  # exact match scores F1 = 1
    # resume: two more steps continue from step 2, not from scratch
    res = runner.invoke(app, ["train-captioner", RECIPE, "--out", str(out), "--set", "max_steps=4",
                              "--set", "evaluation=None"])
    assert res.exit_code == 0, res.output
    events = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert {"event": "resume", "step": 2} in events
    resumed = json.loads((out / "state" / "trainer.json").read_text())
    assert resumed["step"] == 4 and resumed["elapsed_s"] > saved["elapsed_s"]  # the clock continues
    loaded = load_captioner(out / "checkpoint")
    assert loaded.extra == {"step": 4, "final": True} and len(loaded.revision) == 12
    assert loaded.model.styles == ("default", "terse")


def test_dry_run_and_bad_override(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["train-captioner", RECIPE, "--out", str(tmp_path), "--dry-run", "--decoder", "gpt2"])
    assert res.exit_code == 0 and '"name": "gpt2"' in res.output
    res = runner.invoke(app, ["train-captioner", RECIPE, "--out", str(tmp_path), "--set", "model.fpn_level=7"])
    assert res.exit_code == 2 and "fpn_level" in res.output


def test_cli_module_stays_torch_free():
    code = "import spac.cli.captioner, sys; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"


def test_lr_schedule_warmup_cosine_and_time_budget():
    import dataclasses
    import math

    from spac.captioner.config import TrainCaptionerConfig
    from spac.captioner.train import lr_factor

    const = TrainCaptionerConfig()
    assert lr_factor(const, 0, 100, 1e9) == 1.0  # the paper's fixed lr ignores progress
    cos = dataclasses.replace(const, lr_schedule="cosine", warmup_steps=10)
    assert lr_factor(cos, 0, 100, 0.0) == 0.1 * 0.5 * (1 + math.cos(0.0))  # warmup step 1 of 10
    assert math.isclose(lr_factor(cos, 50, 100, 0.0), 0.5)  # half-way down the cosine
    assert lr_factor(cos, 100, 100, 0.0) == 0.0
    timed = dataclasses.replace(cos, max_minutes=2.0)
    assert math.isclose(lr_factor(timed, 20, 100, 60.0), 0.5)  # half the time is spent: time wins over steps
    assert math.isclose(lr_factor(timed, 50, 100, 6.0), 0.5)  # half the steps are done: steps win
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainCaptionerConfig(lr_schedule="linear")


def test_word_f1_by_hand():
    from spac.captioner.evaluate import word_f1

    assert word_f1("black bag", "red bag") == 0.5
    assert word_f1("short brown hair", "short black hair") == 2 / 3
    assert word_f1("unknown", "unknown") == 1.0 and word_f1("unknown", "black backpack") == 0.0
    # "black backpack" vs "black": precision 1/2, recall 1 -> F1 2/3
    assert abs(word_f1("black backpack", "black") - 2 / 3) < 1e-12
