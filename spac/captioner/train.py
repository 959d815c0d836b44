"""``train_captioner(cfg, out)``: the SPAC captioner's training loop with Accelerate (METHOD.md §1.4 recipe).

One readable loop: build examples from the corpora (identity-disjoint validation split), a tokenizer, the
model; AdamW at a fixed lr (or warmup + cosine decay, ``lr_schedule``); log losses and images/s; every
``val_every`` steps the validation loss and a few sample captions; every ``checkpoint_every`` steps the full
state (``out/state``, for resume) and an exported model (``out/checkpoint``, what ``spac caption --model``
loads). Multi-GPU and bf16 come from ``accelerate launch`` and ``precision``. After training, the optional
held-out evaluation writes ``out/eval.json`` beside the checkpoint.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from spac.captioner.checkpoint import save_captioner
from spac.captioner.config import TrainCaptionerConfig
from spac.captioner.data import CaptionDataError, CaptionDataset, Collate, held_out, iter_examples
from spac.captioner.model import SpacCaptioner, build_decoder
from spac.captioner.predict import predict
from spac.config import dump
from spac.records import SLOTS


@dataclass
class TrainResult:
    steps: int
    train_examples: int
    val_examples: int
    val_loss: float | None
    checkpoint: Path
    evaluation: dict | None


def _tokenizer(cfg: TrainCaptionerConfig, texts: list[str], out: Path, accelerator):
    from spac.captioner.tokenizer import load_tokenizer, train_bpe

    if cfg.tokenizer:
        return load_tokenizer(cfg.tokenizer)
    if cfg.model.decoder.name != "config":
        return load_tokenizer(cfg.model.decoder.name)
    path = out / "tokenizer"
    with accelerator.main_process_first():
        if not (path / "tokenizer.json").is_file():
            train_bpe(texts, cfg.vocab_size, out_dir=path)
    return load_tokenizer(path)


class _Log:
    """Human-readable lines on the main process plus ``out/log.jsonl`` (one JSON object per event)."""

    def __init__(self, accelerator, out: Path) -> None:
        self.acc, self.path = accelerator, out / "log.jsonl"

    def __call__(self, event: str, **values) -> None:
        if not self.acc.is_main_process:
            return
        text = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        print(f"[train-captioner] {event} {text}", flush=True)
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"event": event, **values}) + "\n")


def lr_factor(cfg: TrainCaptionerConfig, step: int, total_steps: int, elapsed_s: float) -> float:
    """The multiplier of ``cfg.lr`` for the optimizer step after ``step`` steps and ``elapsed_s`` seconds of
    training: linear warmup over ``warmup_steps``, then 1 (``constant``) or a cosine from 1 to 0 over the run's
    progress, the larger of ``step / total_steps`` and ``elapsed_s / (60 * max_minutes)``."""
    warm = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    if cfg.lr_schedule == "constant":
        return warm
    progress = step / max(1, total_steps)
    if cfg.max_minutes is not None:
        progress = max(progress, elapsed_s / (60 * cfg.max_minutes))
    return warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _forward(model, batch, weight):
    return model(batch["images"], batch["attribute_ids"], batch["attribute_mask"], batch["caption_ids"],
                 batch["caption_mask"], batch["styles"], attribute_weight=weight)


@torch.no_grad()
def _validate(model, loader, accelerator, weight) -> float | None:
    model.eval()
    total, count = torch.zeros(2, device=accelerator.device), 0
    for batch in loader:
        if batch["size"] == 0:
            continue
        batch = {k: v.to(accelerator.device) if torch.is_tensor(v) else v for k, v in batch.items()}
        with accelerator.autocast():
            loss = _forward(model, batch, weight).total
        total += torch.stack([loss.float() * batch["size"], torch.tensor(float(batch["size"]), device=loss.device)])
        count += 1
    total = accelerator.reduce(total, reduction="sum")
    model.train()
    return float(total[0] / total[1]) if float(total[1]) > 0 else None


def train_captioner(cfg: TrainCaptionerConfig, out: str | Path, *, resume: bool = True) -> TrainResult:
    from accelerate import Accelerator
    from accelerate.utils import broadcast_object_list, set_seed

    out = Path(out)
    accelerator = Accelerator(mixed_precision=cfg.precision)
    set_seed(cfg.seed)
    if cfg.threads is not None and accelerator.device.type == "cpu":
        torch.set_num_threads(cfg.threads)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(dump(cfg))
    accelerator.wait_for_everyone()
    log = _Log(accelerator, out)

    train_ex, val_ex = [], []
    for ci, group in iter_examples(cfg.corpora, cfg.model.styles, max_person_id=cfg.max_person_id):
        if group:
            is_val = held_out(cfg.seed, cfg.corpora[ci].source, group[0].record.person_id, cfg.val_fraction)
            (val_ex if is_val else train_ex).extend(group)
    if not train_ex:
        raise CaptionDataError(f"no training captions in corpora {[c.source for c in cfg.corpora]}")
    tokenizer = _tokenizer(cfg, [e.caption for e in train_ex] + [t for e in train_ex for t in e.targets], out,
                           accelerator)
    model = SpacCaptioner(cfg.model, build_decoder(cfg.model, len(tokenizer), tokenizer.eos_token_id))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    per_process = max(1, cfg.batch_size // accelerator.num_processes)
    collate = Collate(tokenizer, max_attribute_tokens=cfg.max_attribute_tokens,
                      max_caption_tokens=cfg.max_caption_tokens, hflip=cfg.hflip, seed=cfg.seed)
    eval_collate = Collate(tokenizer, max_attribute_tokens=cfg.max_attribute_tokens,
                           max_caption_tokens=cfg.max_caption_tokens)
    train_ds = CaptionDataset(train_ex, cfg.corpora, cfg.model.image_size, cache_images=cfg.cache_images)
    val_ds = CaptionDataset(val_ex, cfg.corpora, cfg.model.image_size, cache_images=cfg.cache_images)
    loader = DataLoader(train_ds, batch_size=per_process, shuffle=True, drop_last=len(train_ds) > per_process,
                        collate_fn=collate, num_workers=cfg.num_workers,
                        generator=torch.Generator().manual_seed(cfg.seed))
    val_loader = DataLoader(val_ds, batch_size=per_process, collate_fn=eval_collate, num_workers=cfg.num_workers)
    model, optimizer, loader, val_loader = accelerator.prepare(model, optimizer, loader, val_loader)
    steps_per_epoch = len(loader)
    total_steps = cfg.epochs * steps_per_epoch if cfg.max_steps is None else min(cfg.max_steps,
                                                                                 cfg.epochs * steps_per_epoch)
    log("start", train_examples=len(train_ex), val_examples=len(val_ex), steps=total_steps,
        processes=accelerator.num_processes, params_m=sum(p.numel() for p in model.parameters()) / 1e6)

    step, elapsed_before = 0, 0.0
    state_dir = out / "state"
    if resume and (state_dir / "trainer.json").is_file():
        accelerator.load_state(str(state_dir))
        saved = json.loads((state_dir / "trainer.json").read_text())
        step, elapsed_before = saved["step"], float(saved.get("elapsed_s", 0.0))
        log("resume", step=step)

    def elapsed() -> float:
        """Training seconds over all runs of this ``out`` (a resumed run continues the clock and the schedule)."""
        return elapsed_before + time.perf_counter() - start

    def save(final: bool = False) -> None:
        accelerator.save_state(str(state_dir))
        if accelerator.is_main_process:
            (state_dir / "trainer.json").write_text(json.dumps({"step": step, "elapsed_s": round(elapsed(), 3)}))
            save_captioner(accelerator.unwrap_model(model), tokenizer, out / "checkpoint",
                           extra={"step": step, "final": final})
        accelerator.wait_for_everyone()

    def samples() -> None:
        if not accelerator.is_main_process or not len(val_ds) or not cfg.sample_captions:
            return
        items = [it for it in (val_ds[i] for i in range(min(cfg.sample_captions, len(val_ds))))
                 if it["image"] is not None]
        if items:
            preds = predict(accelerator.unwrap_model(model), tokenizer, torch.stack([it["image"] for it in items]),
                            max_attribute_tokens=cfg.max_attribute_tokens, max_caption_tokens=cfg.max_caption_tokens)
            for it, p in zip(items, preds, strict=True):
                log("sample", reference=it["caption"], attributes=p.attributes.to_string(), **p.captions)
            model.train()

    val_loss = None

    def validate() -> None:
        nonlocal val_loss
        val_loss = _validate(model, val_loader, accelerator, cfg.attribute_weight)
        log("val", step=step, val_loss=val_loss if val_loss is not None else math.nan)
        samples()

    start, seen = time.perf_counter(), 0
    clock = elapsed_before  # training seconds so far, the same on every rank (drives the lr schedule)
    model.train()
    epoch = step // max(1, steps_per_epoch)
    stop = step >= total_steps
    while not stop:
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        skip = step - epoch * steps_per_epoch
        epoch_loader = accelerator.skip_first_batches(loader, skip) if skip > 0 else loader
        for batch in epoch_loader:
            if batch["size"] == 0:
                continue
            lr = cfg.lr * lr_factor(cfg, step, total_steps, clock)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with accelerator.autocast():
                losses = _forward(model, batch, cfg.attribute_weight)
            accelerator.backward(losses.total)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += batch["size"] * accelerator.num_processes
            if step % cfg.log_every == 0 or step == 1:
                log("step", step=step, epoch=epoch, loss=losses.total.item(), caption=losses.caption.item(),
                    attribute=losses.attribute.item(), lr=lr,
                    images_per_s=seen / max(time.perf_counter() - start, 1e-9))
            if step % cfg.val_every == 0:
                validate()
            if step % cfg.checkpoint_every == 0:
                save()
            clock = elapsed()
            out_of_time = cfg.max_minutes is not None and clock > 60 * cfg.max_minutes
            flag = [step >= total_steps or out_of_time, clock]
            if accelerator.num_processes > 1:
                broadcast_object_list(flag)  # every rank stops at the same step and sets the same lr
            clock = flag[1]
            if flag[0]:
                stop = True
                break
        epoch += 1
    if step % cfg.val_every != 0 or step == 0:
        validate()
    save(final=True)
    evaluation = None
    if cfg.evaluation is not None and accelerator.is_main_process:
        from spac.captioner.evaluate import evaluate_captioner

        counts = {slot: Counter(e.targets[k] for e in train_ex) for k, slot in enumerate(SLOTS)}
        evaluation = evaluate_captioner(accelerator.unwrap_model(model), tokenizer, cfg, counts)
        (out / "eval.json").write_text(json.dumps(evaluation, indent=2, sort_keys=True))
        log("eval", **{f"acc_{s}": v for s, v in evaluation["slot_accuracy"].items()},
            caption_attribute_agreement=evaluation["caption_attribute_agreement"])
    if accelerator.is_main_process:
        from spac.captioner.report import plot_run

        log("report", path=str(plot_run(out)))  # losses, lr and slot accuracy vs baselines at a glance
    accelerator.wait_for_everyone()
    return TrainResult(steps=step, train_examples=len(train_ex), val_examples=len(val_ex), val_loss=val_loss,
                       checkpoint=out / "checkpoint", evaluation=evaluation)
