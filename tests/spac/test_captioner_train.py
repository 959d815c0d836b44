"""``spac train-captioner`` on the tiny demo recipe: log, checkpoint, resume, eval.json; CLI and import rules."""

import json
import subprocess
import sys
from pathlib import Path

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
    assert json.loads((out / "state" / "trainer.json").read_text()) == {"step": 2}
    ev = json.loads((out / "eval.json").read_text())
    slots = {"gender", "head", "upper", "lower", "shoes", "belongings"}
    assert set(ev["slot_accuracy"]) == slots and set(ev["majority_baseline"]) == slots
    assert 0.0 <= ev["caption_attribute_agreement"] <= 1.0
    # resume: two more steps continue from step 2, not from scratch
    res = runner.invoke(app, ["train-captioner", RECIPE, "--out", str(out), "--set", "max_steps=4",
                              "--set", "evaluation=None"])
    assert res.exit_code == 0, res.output
    events = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert {"event": "resume", "step": 2} in events
    assert json.loads((out / "state" / "trainer.json").read_text()) == {"step": 4}
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
