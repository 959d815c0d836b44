"""Optimizer and learning rate: parameter groups, Adan with the paper's defaults, lr as a pure function of the step.

METHOD.md §4.1: Adan (betas 0.98/0.92/0.99, eps 1e-8, weight decay 0.02), base lr 2e-3, text encoder lr x 0.1,
warm-up for the first 10 epochs, x 0.1 at epochs 30 and 50 of 70. The trainer writes ``lr_at(step)`` onto the
groups every step instead of stepping a scheduler object: a scheduler passed to ``accelerator.prepare`` advances
once per process per step and finishes early on many GPUs (STYLE.md §4.6). The schedule is given in epochs and
depends only on the step and the total step count, never on the number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

OPTIMIZERS = ("adan", "adamw", "sgd")


@dataclass(frozen=True, kw_only=True, slots=True)
class OptimConfig:
    """Optimizer, schedule and step settings.

    Attributes:
        name: "adan" (pytorch_optimizer's Adan, paper), "adamw" or "sgd".
        lr: base learning rate; ``text_lr_scale`` multiplies it for the text encoder.
        betas, eps, weight_decay: optimizer settings (Adan takes three betas, AdamW the first two).
        epochs: length of training in epochs (the schedule's time axis).
        warmup_epochs: linear warm-up from lr/warmup_steps to lr over this many epochs (fractions allowed).
        decay_epochs: epochs at which the lr is multiplied by ``decay_factor``.
        grad_clip: max global gradient norm (None = no clipping, as the paper).
        grad_accum_steps: micro-batches per optimizer step (each a separate contrastive batch).
    """

    name: str = "adan"
    lr: float = 2e-3
    text_lr_scale: float = 0.1
    betas: tuple[float, ...] = (0.98, 0.92, 0.99)
    eps: float = 1e-8
    weight_decay: float = 0.02
    epochs: float = 70.0
    warmup_epochs: float = 10.0
    decay_epochs: tuple[float, ...] = (30.0, 50.0)
    decay_factor: float = 0.1
    grad_clip: float | None = None
    grad_accum_steps: int = 1

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ValueError(f"optim.name must be one of {OPTIMIZERS}, got {self.name!r}")
        if self.epochs <= 0 or self.warmup_epochs < 0 or self.grad_accum_steps < 1:
            raise ValueError("optim.epochs must be > 0, optim.warmup_epochs >= 0, optim.grad_accum_steps >= 1")
        if list(self.decay_epochs) != sorted(self.decay_epochs):
            raise ValueError(f"optim.decay_epochs must be increasing, got {self.decay_epochs}")


def lr_at(step: int, cfg: OptimConfig, total_steps: int) -> float:
    """Base learning rate for optimizer step ``step`` (0-based) of a run of ``total_steps`` steps.

    Epoch boundaries are scaled to steps by ``total_steps / cfg.epochs``. Warm-up is linear per step,
    ``lr * (step + 1) / warmup_steps`` (the paper's per-epoch ``(e + 1) / W``, made smooth); afterwards the lr
    is ``lr * decay_factor ** (number of decay points passed)``.
    """
    steps_per_epoch = total_steps / cfg.epochs
    warmup = cfg.warmup_epochs * steps_per_epoch
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    passed = sum(step >= round(e * steps_per_epoch) for e in cfg.decay_epochs)
    return cfg.lr * cfg.decay_factor**passed


def param_groups(module: nn.Module, cfg: OptimConfig) -> list[dict]:
    """Trainable parameters in up to four groups: (text encoder or not) x (weight decay or not).

    Norm weights, biases and other 1-d parameters get no weight decay; parameters under ``text.`` (the text
    encoder, found by name inside ``module``) get ``lr_scale = text_lr_scale``. Frozen parameters are left out.
    """
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, p in module.named_parameters():
        if not p.requires_grad:
            continue
        is_text = name.startswith("text.") or ".text." in name
        groups.setdefault((is_text, p.ndim >= 2), []).append(p)
    return [
        {
            "params": params,
            "weight_decay": cfg.weight_decay if decay else 0.0,
            "lr_scale": cfg.text_lr_scale if is_text else 1.0,
            "name": f"{'text' if is_text else 'main'}/{'decay' if decay else 'no_decay'}",
        }
        for (is_text, decay), params in sorted(groups.items())
    ]


def build_optimizer(module: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """The configured optimizer over :func:`param_groups` (lr filled in each step by :func:`set_lr`)."""
    groups = param_groups(module, cfg)
    if not groups:
        raise ValueError("no trainable parameters")
    if cfg.name == "adan":
        from pytorch_optimizer import Adan

        betas = tuple(cfg.betas) if len(cfg.betas) == 3 else (*cfg.betas[:2], 0.99)
        return Adan(groups, lr=cfg.lr, betas=betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    if cfg.name == "adamw":
        return torch.optim.AdamW(
            groups, lr=cfg.lr, betas=tuple(cfg.betas[:2]), eps=cfg.eps, weight_decay=cfg.weight_decay
        )
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.betas[0], weight_decay=cfg.weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Write ``lr`` (times each group's ``lr_scale``) onto every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
