"""``Objective``: the one module the trainer wraps; runs the encoders, every enabled task, and the weighted sum.

Clean-input features are shared between tasks (:class:`plip.tasks.Features`); tasks that need altered inputs
(the gray image for colorization, the masked caption for attribute prediction) call the encoders themselves.
All tasks run every step (no unused parameters under DDP). Default: IVLC + 0.02 TIC + 0.1 IAP (METHOD.md §3.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from plip.batch import Batch
from plip.models import Plip
from plip.tasks import Features, TaskConfig, build_tasks, default_task_configs


@dataclass
class Losses:
    """``total``: weighted sum (differentiable); ``per_task``: each task's unweighted loss (differentiable);
    ``metrics``: detached scalars keyed ``"<task>/<metric>"``."""

    total: torch.Tensor
    per_task: dict[str, torch.Tensor]
    metrics: dict[str, torch.Tensor]


class Objective(nn.Module):
    """PLIP's joint pre-training objective.

    Args:
        model: the :class:`Plip` dual encoder.
        tasks: task name -> config (a ``TaskConfig``, a dict of its fields, or None for defaults); tasks with
            weight 0 are not built. None: all three tasks with the paper's weights.
    """

    def __init__(self, model: Plip, tasks: Mapping[str, TaskConfig | Mapping[str, Any] | None] | None = None) -> None:
        super().__init__()
        self.model = model
        self.tasks = nn.ModuleDict(build_tasks(default_task_configs() if tasks is None else tasks, model))
        if not self.tasks:
            raise ValueError("no task enabled (every weight is 0)")

    def forward(self, batch: Batch, progress: float = 0.0) -> Losses:
        """One step's losses; ``progress`` in [0, 1] is the fraction of training done (IAP mask schedule)."""
        feats = Features(self.model, batch)
        per_task: dict[str, torch.Tensor] = {}
        metrics: dict[str, torch.Tensor] = {}
        total = None
        for name, task in self.tasks.items():
            out = task(self.model, batch, feats, progress)
            per_task[name] = out.loss
            metrics.update({f"{name}/{k}": v.detach() for k, v in out.metrics.items()})
            weighted = task.cfg.weight * out.loss
            total = weighted if total is None else total + weighted
        return Losses(total=total, per_task=per_task, metrics=metrics)
