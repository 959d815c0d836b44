"""`spac` commands of the captioner group: ``train-captioner`` and ``caption`` (thin; torch loads lazily).

```
spac train-captioner captioner_demo --out runs/captioner_demo          # CPU, minutes; writes eval.json
spac train-captioner pipelines/captioner_demo.py:captioner_paper --out runs/spac --decoder /models/gpt2
accelerate launch --multi_gpu --num_processes 4 $(which spac) train-captioner ...   # multi-GPU
spac caption --src demo --backend spac --model runs/captioner_demo/checkpoint --out captions/ --beams 3
spac caption --src lupers --root /data/lup --backend hf --model /models/blip --prompt "default=a picture of"
spac caption --src demo --backend template --out captions/
accelerate launch --multi_gpu --num_processes 4 $(which spac) caption --src lupers ...  # disjoint slices
```
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Annotated

import typer

Set = Annotated[list[str] | None, typer.Option("--set", help="Config override a.b=value (repeatable).")]


def train_captioner(
    recipe: Annotated[str, typer.Argument(help="Recipe: captioner_demo, module:function or file.py:function.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (checkpoint/, state/, log.jsonl, eval.json).")],
    set_: Set = None,
    decoder: Annotated[str | None, typer.Option("--decoder", help="GPT-2: 'gpt2', a local folder or 'config'.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the resolved config and exit.")] = False,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from out/state.")] = True,
) -> None:
    """Train the SPAC captioner (METHOD.md §1.4) on caption corpora; resumable; multi-GPU via accelerate."""
    import dataclasses

    from spac.config import apply_overrides, dump, load_recipe

    try:
        cfg = load_recipe(recipe)
        if decoder is not None:
            cfg = dataclasses.replace(cfg, model=dataclasses.replace(
                cfg.model, decoder=dataclasses.replace(cfg.model.decoder, name=decoder)))
        cfg = apply_overrides(cfg, set_ or [])
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if dry_run:
        typer.echo(dump(cfg))
        return
    from spac.captioner.data import CaptionDataError
    from spac.captioner.train import train_captioner as run
    from spac.sources import SourceError

    try:
        result = run(cfg, out, resume=resume)
    except (CaptionDataError, SourceError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"trained {result.steps} steps on {result.train_examples} captions; val loss {result.val_loss}; "
               f"checkpoint {result.checkpoint}")
    if result.evaluation:
        ev = result.evaluation
        typer.echo("slot accuracy   " + " ".join(f"{s}={v:.3f}" for s, v in ev["slot_accuracy"].items()))
        typer.echo("majority        " + " ".join(f"{s}={v:.3f}" for s, v in ev["majority_baseline"].items()))
        typer.echo(f"caption attribute agreement {ev['caption_attribute_agreement']:.3f} -> {out / 'eval.json'}")


def _options(items: list[str] | None, root: Path | None, hint: str) -> dict:
    options = {} if root is None else {"root": str(root)}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} must look like key=value", param_hint=hint)
        try:
            options[key.strip()] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            options[key.strip()] = raw
    return options


def caption(
    src: Annotated[str, typer.Option("--src", help="Source name: demo, lupers, folder, cuhk-pedes, ...")],
    out: Annotated[Path, typer.Option("--out", help="Output folder of JSONL parts (resumes when it exists).")],
    backend: Annotated[str, typer.Option("--backend", help="spac, hf or template.")] = "spac",
    model: Annotated[str | None, typer.Option("--model", help="Checkpoint / model folder (spac, hf).")] = None,
    root: Annotated[Path | None, typer.Option("--root", help="Source root folder (source option root=).")] = None,
    opt: Annotated[list[str] | None, typer.Option("--opt", help="Source option key=value (repeatable).")] = None,
    beams: Annotated[int, typer.Option("--beams", min=1, help="Beam width (1 = greedy).")] = 1,
    max_attribute_tokens: Annotated[int, typer.Option("--max-attribute-tokens", min=1)] = 8,
    max_caption_tokens: Annotated[int, typer.Option("--max-caption-tokens", min=1)] = 64,
    style: Annotated[list[str] | None, typer.Option("--style", help="Styles to write (default: all).")] = None,
    prompt: Annotated[list[str] | None, typer.Option("--prompt", help="hf: style=prompt (repeatable).")] = None,
    attributes: Annotated[Path | None, typer.Option("--attributes", help="template: attribute JSONL.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 32,
    part_size: Annotated[int, typer.Option("--part-size", min=1, help="Images per output part.")] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, cuda:1 (default: auto).")] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="torch CPU threads (busy machine: 1).")] = None,
    max_parts: Annotated[int | None, typer.Option("--max-parts", help="Stop after this many parts.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Caption a source with a captioner back-end into resumable JSONL parts (attributes + styled captions)."""
    rank, world = 0, 1
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under accelerate launch / torchrun
        from accelerate import PartialState

        state = PartialState()
        rank, world, device = state.process_index, state.num_processes, device or str(state.device)
    options = _options(opt, root, "--opt")
    if backend == "spac":
        bopts = {"model": model, "num_beams": beams, "max_attribute_tokens": max_attribute_tokens,
                 "max_caption_tokens": max_caption_tokens, "styles": style, "device": device}
    elif backend == "hf":
        prompts = dict(p.partition("=")[::2] for p in prompt) if prompt else None
        bopts = {"model": model, "prompts": prompts, "max_new_tokens": max_caption_tokens, "num_beams": beams,
                 "device": device}
    else:
        bopts = {"styles": style, "seed": seed, "attributes": None if attributes is None else str(attributes)}
    if backend in ("spac", "hf") and not model:
        raise typer.BadParameter(f"--backend {backend} needs --model FOLDER", param_hint="--model")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    from spac.captioner.backends import BackendError, build_backend
    from spac.captioner.checkpoint import CheckpointError
    from spac.captioner.inference import CaptionRunError, caption_source
    from spac.sources import SourceError

    try:
        runner = build_backend(backend, **bopts)
        summary = caption_source(runner, src, options, out, batch_size=batch_size, part_size=part_size, rank=rank,
                                 world=world, progress=not quiet, max_parts=max_parts)
    except (BackendError, CheckpointError, CaptionRunError, SourceError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"[{rank}/{world}] {summary.images} images in {summary.parts_written} parts "
               f"({summary.parts_skipped} done parts skipped), {summary.errors} errors "
               f"{summary.error_reasons or ''}; {summary.seconds:.1f} s, {summary.images_per_s:.1f} images/s "
               f"-> {out}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the `spac` app."""
    app.command("train-captioner")(train_captioner)
    app.command("caption")(caption)
