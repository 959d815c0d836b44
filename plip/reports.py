"""Pictures a person would rather look at than numbers: training curves and retrieval examples.

``plot_training_curves`` reads a run's ``metrics.jsonl`` (one row per step, written by ``plip.train``) and the
validation files ``eval/val-step-*.json`` and draws the total and per-task losses (raw and smoothed), the learning
rate, throughput and validation R@1 into one PNG. ``plot_retrieval_examples`` shows, for a few caption queries,
the top-k gallery images with a green (same identity) or red (other identity) frame. Both use matplotlib's Agg
backend (no display needed) and return the written path.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

NON_LOSS_KEYS = {"step", "lr", "samples_per_s", "data_wait"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The rows of ``run_dir/metrics.jsonl``; a malformed line names the file and line."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no metrics log (is {run_dir} a plip-train run folder?)")
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{n}: not JSON ({err.msg})") from None
    return rows


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average (the first points average what exists so far), same length as ``values``."""
    x = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(x) == 0:
        return x
    csum = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def plot_training_curves(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Draw ``run_dir/curves.png`` (or ``out``): losses, learning rate, samples/s and validation R@1."""
    run_dir = Path(run_dir)
    rows = read_metrics(run_dir)
    if not rows:
        raise ValueError(f"{run_dir / 'metrics.jsonl'}: empty metrics log")
    steps = np.array([r["step"] for r in rows])
    # "loss" (weighted total) and one unweighted loss per task; "<task>/<metric>" keys are not losses
    loss_keys = [k for k in rows[-1] if k not in NON_LOSS_KEYS and "/" not in k]
    val = sorted(
        (json.loads(p.read_text()) for p in (run_dir / "eval").glob("val-step-*.json")), key=lambda m: m["step"]
    )
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 7))
    window = max(1, len(rows) // 25)
    ax = axes[0, 0]
    for key in loss_keys:
        values = [r.get(key, np.nan) for r in rows]
        (line,) = ax.plot(steps, values, alpha=0.25)
        ax.plot(steps, smooth(values, window), color=line.get_color(), label=key)
    ax.set(title=f"losses (moving average over {window} steps)", xlabel="step")
    ax.legend(fontsize=8)
    axes[0, 1].plot(steps, [r.get("lr", np.nan) for r in rows])
    axes[0, 1].set(title="learning rate", xlabel="step")
    axes[1, 0].plot(steps, smooth([r.get("samples_per_s", np.nan) for r in rows], window))
    axes[1, 0].set(title="samples/s (rank 0)", xlabel="step")
    ax = axes[1, 1]
    if val:
        for key in ("R1", "R5", "R10", "mAP"):
            ax.plot([m["step"] for m in val], [m[key] for m in val], marker="o", label=key)
        if "chance_R1" in val[-1]:
            ax.axhline(val[-1]["chance_R1"], color="gray", linestyle="--", label="chance R1")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no validation during training", ha="center", va="center", transform=ax.transAxes)
    ax.set(title="held-out text->image retrieval (%)", xlabel="step")
    fig.suptitle(f"plip-train {run_dir.name}: {len(rows)} steps")
    fig.tight_layout()
    out = Path(out) if out is not None else run_dir / "curves.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _thumbnail(src: bytes | Path, size: tuple[int, int] = (64, 128)):
    from PIL import Image

    image = Image.open(io.BytesIO(src) if isinstance(src, bytes | bytearray) else src)
    return image.convert("RGB").resize(size)


def top_matches(
    similarity: np.ndarray, text_ids: np.ndarray, image_ids: np.ndarray, *, queries: int, k: int, seed: int = 0
) -> list[tuple[int, list[tuple[int, bool]]]]:
    """For ``queries`` query rows drawn with ``seed`` (in index order): the ``k`` best gallery indices, best first
    (ties keep gallery order), each with whether it shows the query's identity."""
    n_q, n_g = similarity.shape
    chosen = np.sort(np.random.default_rng(seed).choice(n_q, size=min(queries, n_q), replace=False))
    out = []
    for q in chosen.tolist():
        order = np.argsort(-similarity[q], kind="stable")[: min(k, n_g)].tolist()
        out.append((q, [(g, bool(image_ids[g] == text_ids[q])) for g in order]))
    return out


def plot_retrieval_examples(
    texts: Sequence[str],
    text_ids: np.ndarray,
    images: Sequence[bytes | Path],
    image_ids: np.ndarray,
    similarity: np.ndarray,
    out: str | Path,
    *,
    queries: int = 6,
    k: int = 5,
    seed: int = 0,
) -> Path:
    """Top-``k`` gallery images of ``queries`` captions (chosen with ``seed``) from a ``[Q, G]`` similarity."""
    similarity = np.asarray(similarity)
    if similarity.shape != (len(texts), len(images)):
        raise ValueError(f"similarity has shape {similarity.shape}, expected ({len(texts)}, {len(images)})")
    rows = top_matches(similarity, text_ids, image_ids, queries=queries, k=k, seed=seed)
    k = min(k, len(images))
    plt = _pyplot()
    fig, axes = plt.subplots(len(rows), k + 1, figsize=(1.4 * k + 3.5, 2.3 * len(rows)), squeeze=False)
    for row, (q, matches) in zip(axes, rows, strict=True):
        row[0].axis("off")
        row[0].text(0, 0.5, "\n".join(textwrap.wrap(texts[q], 28)[:8]), fontsize=7, va="center")
        for rank, (ax, (g, hit)) in enumerate(zip(row[1:], matches, strict=True), 1):
            ax.imshow(_thumbnail(images[g]))
            for spine in ax.spines.values():
                spine.set(color="green" if hit else "red", linewidth=3)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"#{rank} {similarity[q, g]:.2f}", fontsize=7)
    fig.suptitle("text -> image retrieval: top matches (green: same identity, red: other)")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
