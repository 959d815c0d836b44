"""``train(cfg)``: PLIP pre-training with Accelerate, readable top to bottom.

One process per device (``accelerate launch`` / ``torchrun``; on CPU ``accelerate launch --multi_gpu
--num_processes N`` gives N gloo processes, ``--cpu`` gives one). Each process builds its own data stream for its
rank (``plip.data``); only the objective and optimizer go through ``accelerator.prepare``. The lr is written each
step from ``lr_at(step)``. Every optimizer step consumes ``grad_accum_steps`` batches on every rank, so all ranks
take the same number of steps by construction. Resume (``resume=True``) restores model, optimizer, step, RNG and
data position (exactly: the stream replays raw samples to the saved batch) from the latest checkpoint.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator, DistributedDataParallelKwargs
from accelerate.utils import set_seed

from plip.checkpoint import save_pretrained
from plip.checkpointing import latest_checkpoint, load_checkpoint, save_checkpoint
from plip.config import TrainConfig
from plip.data import TrainLoader, read_raw, read_split
from plip.models import build_model
from plip.objective import Objective
from plip.optim import build_optimizer, lr_at, set_lr
from plip.reports import plot_training_curves
from plip.tokenizer import load_tokenizer, train_wordpiece
from spac.config import to_dict


@dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    run_dir: Path
    steps: int
    total_steps: int
    model_dir: Path | None
    last_losses: dict[str, float] = field(default_factory=dict)
    val_metrics: dict[str, Any] | None = None
    samples_per_second: float = 0.0


def setup_tokenizer(cfg: TrainConfig, run_dir: Path, accelerator: Accelerator) -> Any:
    """The configured tokenizer, or (``data.tokenizer=None``) a WordPiece vocabulary trained by rank 0 on the
    training captions and saved in ``run_dir/tokenizer`` (reused on resume)."""
    if cfg.data.tokenizer is not None:
        return load_tokenizer(cfg.data.tokenizer)
    tok_dir = run_dir / "tokenizer"
    if accelerator.is_main_process and not (tok_dir / "vocab.txt").is_file():

        def corpus() -> Iterator[str]:
            for shard in read_split(cfg.data.shards, cfg.data.train_split):
                for sample in read_raw(shard.path):
                    rec = sample["json"]
                    yield from (c["text"] for c in rec.get("captions") or [])
                    if rec.get("prompt_caption"):
                        yield rec["prompt_caption"]["text"]

        train_wordpiece(corpus(), tok_dir, vocab_size=cfg.data.tokenizer_vocab_size)
    accelerator.wait_for_everyone()
    return load_tokenizer(tok_dir)


def batches_from(loader: TrainLoader, position: int) -> Iterator[Any]:
    """Endless batches starting at global batch ``position`` (epoch = position // steps_per_epoch)."""
    epoch, start = divmod(position, loader.steps_per_epoch)
    while True:
        yield from loader.epoch(epoch, start)
        epoch, start = epoch + 1, 0


def trackers(cfg: TrainConfig) -> list[str]:
    return [
        t
        for t in cfg.run.trackers
        if importlib.util.find_spec(t) is not None
        or (t == "tensorboard" and importlib.util.find_spec("tensorboardX") is not None)
    ]


def train(cfg: TrainConfig, resume: bool = False) -> TrainResult:
    """Run (or continue, with ``resume``) the pre-training described by ``cfg``."""
    run_dir = Path(cfg.run.out)
    kwargs = [DistributedDataParallelKwargs(find_unused_parameters=cfg.run.find_unused_parameters)]
    use_trackers = trackers(cfg)
    accelerator = Accelerator(
        cpu=cfg.run.cpu,
        mixed_precision=cfg.run.precision,
        log_with=use_trackers or None,
        project_dir=str(run_dir),
        kwargs_handlers=kwargs,
    )
    rank, world = accelerator.process_index, accelerator.num_processes
    log = accelerator.print
    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=2, sort_keys=True) + "\n")
    if cfg.run.deterministic:
        torch.use_deterministic_algorithms(True)
    if cfg.run.threads:
        torch.set_num_threads(cfg.run.threads)
    tokenizer = setup_tokenizer(cfg, run_dir, accelerator)

    # Identical init on every rank (DDP also broadcasts rank 0's weights); per-rank randomness afterwards.
    set_seed(cfg.run.seed)
    model = build_model(cfg.model, tokenizer)
    objective = Objective(model, cfg.tasks)
    optimizer = build_optimizer(objective, cfg.optim)
    set_seed(cfg.run.seed + rank)
    objective, optimizer = accelerator.prepare(objective, optimizer)  # not the loader, not a scheduler
    loader = TrainLoader(
        cfg.data, tokenizer, rank=rank, world_size=world, pin_memory=accelerator.device.type == "cuda"
    )

    accum = cfg.optim.grad_accum_steps
    total_steps = max(1, math.floor(cfg.optim.epochs * loader.steps_per_epoch / accum))
    stop = min(total_steps, cfg.run.max_steps or total_steps)
    ckpt_root = run_dir / "checkpoints"
    step = 0
    ckpt = latest_checkpoint(ckpt_root) if resume else None
    if ckpt is not None:
        state = load_checkpoint(ckpt, rank, accelerator.unwrap_model(objective), optimizer, accelerator)
        check_resume(state, loader, world, accum)
        step = state["step"]
        log(f"resumed from {ckpt} at step {step}")
    log(
        f"{world} process(es) x {loader.local_batch_size} samples, {loader.steps_per_epoch} batches/epoch, "
        f"{total_steps} steps in the schedule, running to step {stop}"
    )
    if use_trackers:
        accelerator.init_trackers(run_dir.name, config=_flat(to_dict(cfg)))

    batches = batches_from(loader, step * accum)
    val_set, val_metrics, losses, rate = None, None, {}, 0.0

    def save(at: int) -> None:
        state = run_state(cfg, at, loader, world, accum)
        model = accelerator.unwrap_model(objective)
        save_checkpoint(accelerator, ckpt_root, at, model, optimizer, state, cfg.run.keep_checkpoints)

    metrics_file = run_dir / "metrics.jsonl"  # every step of rank 0 (losses are rank 0's local batch)
    if accelerator.is_main_process and ckpt is None:
        metrics_file.unlink(missing_ok=True)  # a fresh run in a reused folder starts a fresh log
    objective.train()
    run_start, first_step = time.perf_counter(), step
    while step < stop:
        lr = lr_at(step, cfg.optim, total_steps)
        set_lr(optimizer, lr)
        t0, wait = time.perf_counter(), 0.0
        for micro in range(accum):
            tw = time.perf_counter()
            batch = next(batches).to(accelerator.device, non_blocking=True)
            wait += time.perf_counter() - tw
            sync = contextlib.nullcontext() if micro == accum - 1 else accelerator.no_sync(objective)
            with sync:
                out = objective(batch, progress=step / total_steps)
                accelerator.backward(out.total / accum)
        if cfg.optim.grad_clip:
            accelerator.clip_grad_norm_(objective.parameters(), cfg.optim.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1

        elapsed = time.perf_counter() - t0
        rate = cfg.data.batch_size * accum / elapsed
        losses = {"loss": float(out.total.detach()), **{k: float(v.detach()) for k, v in out.per_task.items()}}
        row = {
            "step": step,
            "lr": lr,
            **losses,
            "samples_per_s": rate,
            "data_wait": wait / elapsed,
            **{k: float(v) for k, v in out.metrics.items()},
        }
        if accelerator.is_main_process:
            with metrics_file.open("a") as f:
                f.write(json.dumps(row) + "\n")
            if step % cfg.run.log_every == 0 or step == stop:
                log(
                    " ".join(
                        [
                            f"step {step}/{stop}",
                            f"lr {lr:.2e}",
                            *(f"{k} {v:.4f}" for k, v in losses.items()),
                            f"{rate:.1f} samples/s",
                            f"data wait {wait / elapsed:.0%}",
                            f"ETA {_eta((stop - step) * (time.perf_counter() - run_start) / (step - first_step))}",
                        ]
                    )
                )
        if use_trackers:
            accelerator.log(row, step=step)
        if cfg.run.eval_every and step % cfg.run.eval_every == 0 and step < stop:
            val_set, val_metrics = validate(cfg, accelerator, objective, tokenizer, val_set, step)
        if cfg.run.save_every and step % cfg.run.save_every == 0 and step < stop:
            save(step)

    save(step)
    write_rank_log(run_dir, rank, world, step, loader, accum, accelerator.unwrap_model(objective))
    model_dir = None
    if accelerator.is_main_process:
        model_dir = save_pretrained(accelerator.unwrap_model(objective).model, run_dir / "model", tokenizer)
    val_set, val_metrics = validate(cfg, accelerator, objective, tokenizer, val_set, step)
    if accelerator.is_main_process:
        try:  # the run is saved already; a picture that cannot be drawn must not fail it
            log(f"curves: {plot_training_curves(run_dir)}")
        except (OSError, ValueError) as err:
            log(f"warning: could not draw training curves: {err}")
    accelerator.end_training()
    return TrainResult(run_dir, step, total_steps, model_dir, losses, val_metrics, rate)


def validate(
    cfg: TrainConfig, accelerator: Accelerator, objective: Any, tokenizer: Any, val_set: Any, step: int
) -> tuple[Any, dict[str, Any] | None]:
    """Zero-shot text -> image retrieval on the validation split, on the main process (others wait)."""
    from plip.evaluation import evaluate_retrieval, from_shards, write_json

    if not cfg.data.val_split:
        return val_set, None
    metrics = None
    if accelerator.is_main_process:
        try:
            val_set = val_set or from_shards(cfg.data.shards, cfg.data.val_split)
        except (FileNotFoundError, ValueError) as err:
            accelerator.print(f"validation skipped: {err}")
            val_set = None
        if val_set is not None:
            model = accelerator.unwrap_model(objective).model
            metrics = evaluate_retrieval(
                model, val_set, tokenizer=tokenizer, batch_size=cfg.run.eval_batch_size, device=accelerator.device
            )
            metrics["step"] = step
            write_json(metrics, Path(cfg.run.out) / "eval" / f"val-step-{step:08d}.json")
            accelerator.print(
                f"val step {step}: "
                + " ".join(f"{k} {metrics[k]:.2f}" for k in ("R1", "R5", "R10", "mAP", "mINP", "chance_R1"))
            )
            if trackers(cfg):
                accelerator.log({f"val/{k}": metrics[k] for k in ("R1", "R5", "R10", "mAP", "mINP")}, step=step)
    accelerator.wait_for_everyone()
    return val_set, metrics


def _eta(seconds: float) -> str:
    """``h:mm:ss`` of the remaining time at the run's average step rate so far."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def run_state(cfg: TrainConfig, step: int, loader: TrainLoader, world: int, accum: int) -> dict[str, Any]:
    position = step * accum
    return {
        "step": step,
        "batch_position": position,
        "epoch": position // loader.steps_per_epoch,
        "batch_in_epoch": position % loader.steps_per_epoch,
        "steps_per_epoch": loader.steps_per_epoch,
        "world_size": world,
        "num_workers": loader.num_workers,
        "grad_accum_steps": accum,
        "config": to_dict(cfg),
    }


def check_resume(state: dict[str, Any], loader: TrainLoader, world: int, accum: int) -> None:
    """The data position is only exact with the same world size, workers, accumulation and epoch length."""
    now = {
        "world_size": world,
        "num_workers": loader.num_workers,
        "grad_accum_steps": accum,
        "steps_per_epoch": loader.steps_per_epoch,
    }
    diff = {k: (state.get(k), v) for k, v in now.items() if state.get(k) != v}
    if diff:
        raise ValueError(f"cannot resume exactly: checkpoint vs now differ in {diff}")


def write_rank_log(
    run_dir: Path, rank: int, world: int, steps: int, loader: TrainLoader, accum: int, module: torch.nn.Module
) -> None:
    """``run/data/rank-{r}.json``: steps taken, shards read per epoch and a hash of the final weights of this
    rank (equal on every rank when gradients were synchronised); for audits and tests."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.named_parameters()):  # buffers (BN statistics) stay per rank under DDP
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    epochs = range(0, max(1, math.ceil(steps * accum / loader.steps_per_epoch)))
    out = run_dir / "data" / f"rank-{rank}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "rank": rank,
                "world_size": world,
                "steps": steps,
                "weights_sha256": digest.hexdigest(),
                "shards": {str(e): loader.rank_shards(e) for e in epochs},
            },
            indent=2,
        )
    )


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v if isinstance(v, int | float | str | bool) else str(v)
    return out
