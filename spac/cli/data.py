"""`spac` commands of the data group: ``generate``, ``inspect``, ``validate`` (thin layers over the library).

```
spac generate --src demo --out shards/                       # embedded demo set, nothing else needed
spac generate --src folder --root /data/market --out shards/ --captions caps/ --val-fraction 0.05 --workers 8
spac generate --recipe pipelines/spac_demo.py:spac_demo --out shards/ --set shards.max_samples=1000
spac inspect shards/ --n 5          spac inspect shards/train-000000.tar
spac validate shards/
```
"""

from __future__ import annotations

import ast
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer

Src = Annotated[str | None, typer.Option("--src", help="Source name: demo, folder, lupers, lpw, synth-pedes, ...")]
Out = Annotated[Path, typer.Option("--out", help="Output folder for the shards (resumes when it exists).")]
Opt = Annotated[list[str] | None, typer.Option("--opt", help="Source option key=value (repeatable).")]
Set = Annotated[list[str] | None, typer.Option("--set", help="Config override a.b=value (repeatable).")]


def generate(
    out: Out,
    src: Src = None,
    root: Annotated[Path | None, typer.Option("--root", help="Source root folder (source option root=).")] = None,
    opt: Opt = None,
    recipe: Annotated[str | None, typer.Option("--recipe", help="Recipe module:function giving a config.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of every random choice.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    captions: Annotated[Path | None, typer.Option("--captions", help="Captioner outputs (JSONL or folder).")] = None,
    attributes: Annotated[Path | None, typer.Option("--attributes", help="Attribute annotations JSONL.")] = None,
    val_fraction: Annotated[float | None, typer.Option("--val-fraction", help="Identities to val-*.tar.")] = None,
    set_: Set = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the resolved config and exit.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Build WebDataset shards from a source (joins, image checks, filters, prompt captions); resumable."""
    import dataclasses

    import spac.sources  # noqa: F401 -- registers the built-in sources
    from spac.config import apply_overrides, dump, load_recipe
    from spac.generate import GenerateConfig, SourceConfig, generate

    if src is None and recipe is None:
        raise typer.BadParameter("give --src NAME (e.g. --src demo) or --recipe", param_hint="--src")
    try:
        cfg = load_recipe(recipe) if recipe else GenerateConfig()
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    options = dict(cfg.source.options) if src is None or src == cfg.source.name else {}
    if root is not None:
        options["root"] = str(root)
    for item in opt or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} must look like key=value", param_hint="--opt")
        try:
            options[key.strip()] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            options[key.strip()] = raw
    changes = {"source": SourceConfig(name=src or cfg.source.name, options=options)}
    for name, value in (("seed", seed), ("val_fraction", val_fraction), ("captions", captions),
                        ("attributes", attributes)):
        if value is not None:
            changes[name] = str(value) if isinstance(value, Path) else value
    try:
        cfg = apply_overrides(dataclasses.replace(cfg, **changes), set_ or [])
    except ValueError as err:  # ConfigError and the configs' own checks (__post_init__)
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if dry_run:
        typer.echo(dump(cfg))
        return
    from spac.generate import GenerateError
    from spac.shards import ShardError
    from spac.sources import SourceError

    try:
        summary = generate(cfg, out, workers=workers, progress=not quiet)
    except (GenerateError, ShardError, SourceError) as err:  # bad input as a whole: a clear message, no traceback
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    _print_summary(summary)


def _print_summary(s) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"spac generate -> {s.out}", show_header=True)
    for col in ("split", "shards", "samples", "identities", "MiB"):
        table.add_column(col, justify="right")
    for split, e in s.splits.items():
        table.add_row(split, str(e["shards"]), str(e["samples"]), str(e["identities"]), f"{e['bytes'] / 2**20:.1f}")
    console = Console()
    console.print(table)
    rate = s.input_records / s.seconds if s.seconds > 0 else 0.0
    console.print(f"input records {s.input_records}, kept {s.kept}, dropped {s.input_records - s.kept}; "
                  f"{s.seconds:.1f} s ({rate:.0f} records/s); skipped on resume: {s.units_skipped} units, "
                  f"{s.shards_skipped} shards")
    for reason, n in s.dropped.items():
        console.print(f"  dropped {reason}: {n}")
    for reason, n in s.run_ledger.items():
        console.print(f"  run ledger {reason}: {n} (see meta/run.parquet)")


def inspect(
    path: Annotated[Path, typer.Argument(help="A shard folder or one .tar")],
    n: Annotated[int, typer.Option("--n", min=0, help="Records to show.")] = 5,
    split: Annotated[str, typer.Option("--split")] = "train",
) -> None:
    """Show a folder's index summary and the first records (or the first records of one tar)."""
    from spac.records import from_sample
    from spac.shards import iter_samples, list_shards, read_index

    if path.is_dir():
        index = read_index(path)
        for name, e in index["splits"].items():
            typer.echo(f"{name}: {len(e['shards'])} shards, {e['samples']} samples, {e['identities']} identities, "
                       f"{e['bytes'] / 2**20:.1f} MiB, dropped {e['dropped']}")
        tars = list_shards(path, split)
    elif path.is_file():
        tars = [path]
    else:
        raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")

    def samples():
        for tar in tars:
            yield from iter_samples(tar)

    for sample in islice(samples(), n):
        r = from_sample(sample)
        typer.echo(f"\n{r.key}  person {r.person_id}  {r.source}:{r.source_ref}  jpg {len(r.image or b'')} bytes")
        typer.echo(f"  attributes: {r.attributes.to_string()}")
        for c in r.captions:
            typer.echo(f"  caption [{c.style}/{c.generator}]: {_marked(c.text, c.spans)}")
        if r.prompt_caption is not None:
            typer.echo(f"  prompt [{r.prompt_caption.template_id}]: {_marked(r.prompt_caption.text, r.prompt_caption.spans)}")


def _marked(text: str, spans) -> str:
    """``text`` with each span shown as ``[slot: phrase]``."""
    for s in sorted(spans, key=lambda s: s.start, reverse=True):
        text = f"{text[:s.start]}[{s.slot}: {text[s.start:s.end]}]{text[s.end:]}"
    return text


def validate(
    path: Annotated[Path, typer.Argument(help="A shard folder written by `spac generate`")],
    decode: Annotated[bool, typer.Option("--decode/--no-decode", help="Decode every image (slower).")] = True,
) -> None:
    """Check every tar against index.json, its stats and its ledger; exit 1 with a listing when invalid."""
    from spac.shards import validate as run

    report = run(path, decode_images=decode)
    if report.ok:
        typer.echo(f"OK: {report.shards} shards, {report.samples} samples")
        return
    typer.echo(f"INVALID: {len(report.problems)} problem(s) in {path}", err=True)
    for problem in report.problems:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the `spac` app."""
    app.command("generate")(generate)
    app.command("inspect")(inspect)
    app.command("validate")(validate)
