"""``plip-train``: resolve a recipe, apply ``--set`` overrides, then call :func:`plip.train.train` (thin).

Examples::

    plip-train demo --shards demo_out/shards --out demo_out/run
    plip-train pipelines/pretrain_rn50.py:pretrain_rn50 --shards /data/synth_pedes --out runs/rn50 --set run.precision=bf16
    accelerate launch --multi_gpu --num_processes 4 -m plip.cli.train pretrain_rn50 --shards ... --out ...
    plip-train demo --shards demo_out/shards --out runs/minilm --text-model /path/to/all-MiniLM-L6-v2

``--text-model`` (a local folder or a Hub id in the local cache, e.g. ``bert-base-uncased``) loads pretrained
text weights and their tokenizer, and sizes the image embedding to the text model's hidden size (PLIP has no
text projection head).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, help=__doc__)


def text_model_overrides(name_or_path: str) -> list[str]:
    """Overrides that switch a recipe to pretrained text weights: model, tokenizer and embedding size."""
    from transformers import AutoConfig

    try:
        hidden = AutoConfig.from_pretrained(name_or_path).hidden_size
    except (OSError, ValueError) as err:
        raise ValueError(
            f"--text-model {name_or_path!r}: no usable config (a local folder, or a Hub id already in the cache "
            f"when offline): {err}"
        ) from None
    return [
        f"model.text_model={name_or_path!r}",
        "model.text_config=None",
        f"model.embed_dim={hidden}",
        f"data.tokenizer={name_or_path!r}",
    ]


def resolve(
    recipe: str, shards: Path | None, out: Path | None, overrides: list[str], text_model: str | None = None
):
    """The recipe's ``TrainConfig`` with ``--shards``/``--out``/``--text-model`` and then every ``--set`` applied."""
    from spac.config import apply_overrides, load_recipe

    cfg = load_recipe(recipe)
    if text_model is not None:
        overrides = [*text_model_overrides(text_model), *overrides]
    if shards is not None:
        overrides = [f"data.shards={str(shards)!r}", *overrides]
    if out is not None:
        overrides = [f"run.out={str(out)!r}", *overrides]
    return apply_overrides(cfg, overrides)


@app.command()
def main_command(
    recipe: str = typer.Argument("demo", help="recipe: name in pipelines/, module:function or path.py:function"),
    shards: Path | None = typer.Option(None, "--shards", help="shard folder (sets data.shards)"),
    out: Path | None = typer.Option(None, "--out", help="run folder (sets run.out)"),
    set_: list[str] = typer.Option([], "--set", help="override, e.g. --set optim.lr=1e-4 (repeatable)"),
    text_model: str | None = typer.Option(
        None, "--text-model", help="pretrained text encoder + tokenizer: local folder or Hub id (bert-base-uncased)"
    ),
    resume: bool = typer.Option(False, "--resume", help="continue from the run folder's latest checkpoint"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the resolved config and exit"),
) -> None:
    """Pre-train PLIP with the RECIPE's config."""
    from spac.config import ConfigError, dump

    try:
        cfg = resolve(recipe, shards, out, set_, text_model)
    except (ConfigError, ValueError, TypeError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if dry_run:
        typer.echo(dump(cfg))
        return
    from plip.data import read_split
    from plip.train import train

    try:  # a wrong --shards is a user error, not a traceback from deep inside the tokenizer setup
        read_split(cfg.data.shards, cfg.data.train_split)
    except (FileNotFoundError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None

    start = time.perf_counter()
    result = train(cfg, resume=resume)
    if result.model_dir is not None:
        summary(result, time.perf_counter() - start)


def summary(result, seconds: float) -> None:
    """The end-of-run table: steps, time, throughput, last losses, held-out retrieval, where things are."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"plip-train: {result.run_dir}", show_header=False)
    table.add_row("steps", f"{result.steps} / {result.total_steps}")
    table.add_row("time", f"{seconds:.0f} s ({result.samples_per_second:.1f} samples/s at the end, rank 0)")
    table.add_row("last losses", " ".join(f"{k} {v:.3f}" for k, v in result.last_losses.items()))
    if result.val_metrics:
        m = result.val_metrics
        table.add_row(
            "held-out retrieval",
            " ".join(f"{k} {m[k]:.1f}" for k in ("R1", "R5", "R10", "mAP") if k in m)
            + (f" (chance R1 {m['chance_R1']:.1f})" if "chance_R1" in m else ""),
        )
    table.add_row("model", str(result.model_dir))
    table.add_row("curves", str(result.run_dir / "curves.png"))
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
