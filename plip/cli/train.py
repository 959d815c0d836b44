"""``plip-train``: resolve a recipe, apply ``--set`` overrides, then call :func:`plip.train.train` (thin).

Examples::

    plip-train demo --shards demo_out/shards --out demo_out/run
    plip-train pipelines/pretrain_rn50.py:pretrain_rn50 --shards /data/synth_pedes --out runs/rn50 --set run.precision=bf16
    accelerate launch --multi_gpu --num_processes 4 -m plip.cli.train pretrain_rn50 --shards ... --out ...
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False, help=__doc__)


def resolve(recipe: str, shards: Path | None, out: Path | None, overrides: list[str]):
    """The recipe's ``TrainConfig`` with ``--shards``/``--out`` and then every ``--set`` applied."""
    from spac.config import apply_overrides, load_recipe

    cfg = load_recipe(recipe)
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
    resume: bool = typer.Option(False, "--resume", help="continue from the run folder's latest checkpoint"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the resolved config and exit"),
) -> None:
    """Pre-train PLIP with the RECIPE's config."""
    from spac.config import ConfigError, dump

    try:
        cfg = resolve(recipe, shards, out, set_)
    except (ConfigError, ValueError, TypeError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if dry_run:
        typer.echo(dump(cfg))
        return
    from plip.train import train

    result = train(cfg, resume=resume)
    if result.model_dir is not None:
        typer.echo(f"done: {result.steps} steps; model in {result.model_dir}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
