"""Draw ``report.png`` of a ``spac train-captioner`` run: losses and validation loss, learning rate, and the
held-out per-slot accuracy next to the majority baseline and uniform chance (from ``log.jsonl`` and
``eval.json``), so a run can be judged at a glance instead of from numbers in a log."""

from __future__ import annotations

import json
import math
from pathlib import Path

from spac.records import SLOTS

REPORT_PNG = "report.png"


def read_log(run_dir: Path) -> list[dict]:
    """The events of ``run_dir/log.jsonl`` (a resumed run appends to it: later events of a step win)."""
    path = Path(run_dir) / "log.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a train-captioner run folder")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _series(events: list[dict], event: str, key: str) -> tuple[list[int], list[float]]:
    by_step = {e["step"]: e[key] for e in events if e.get("event") == event and key in e}
    steps = sorted(by_step)
    return steps, [by_step[s] for s in steps]


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report figure (default ``run_dir/report.png``) and return its path."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    run_dir = Path(run_dir)
    events = read_log(run_dir)
    fig = Figure(figsize=(15, 4.2), dpi=80)
    axes = fig.subplots(1, 3)
    ax = axes[0]
    for key in ("loss", "caption", "attribute"):
        steps, values = _series(events, "step", key)
        ax.plot(steps, values, label=f"train {key}")
    steps, values = _series(events, "val", "val_loss")
    if steps:
        ax.plot(steps, [v if v is not None else math.nan for v in values], "o-", label="val loss")
    ax.set(title="losses", xlabel="step", yscale="log")
    ax.legend(fontsize=8)
    steps, values = _series(events, "step", "lr")
    axes[1].plot(steps, values)
    axes[1].set(title="learning rate", xlabel="step")
    ax = axes[2]
    eval_path = run_dir / "eval.json"
    if eval_path.is_file():
        ev = json.loads(eval_path.read_text(encoding="utf-8"))
        width, xs = 0.27, range(len(SLOTS))
        bars = [("captioner", ev["slot_accuracy"]), ("majority", ev["majority_baseline"]),
                ("chance", ev.get("chance", {}))]
        for k, (label, values) in enumerate(bars):
            if values:
                ax.bar([x + (k - 1) * width for x in xs], [values[s] for s in SLOTS], width, label=label)
        ax.set_xticks(list(xs), SLOTS, rotation=20)
        ax.set(title=f"held-out slot accuracy ({ev['images']} images)", ylim=(0, 1))
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no eval.json", ha="center", va="center", transform=ax.transAxes)
    last = max((e["step"] for e in events if e.get("event") == "step"), default=0)
    fig.suptitle(f"spac train-captioner {run_dir.name}: {last} steps")
    fig.tight_layout()
    out = Path(out) if out is not None else run_dir / REPORT_PNG
    fig.savefig(out, metadata={"Software": None})
    return out
