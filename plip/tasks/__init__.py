"""PLIP's pretext tasks, one module each, registered by name in :data:`TASKS`.

``colorization`` (TIC), ``attribute_prediction`` (IAP), ``identity_contrast`` (IVLC); METHOD.md §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

# Importing the task modules registers them.
from .attribute_prediction import AttributePrediction, AttributePredictionConfig
from .base import TASKS, Features, PretextTask, TaskConfig, TaskOutput, register_task
from .colorization import Colorization, ColorizationConfig
from .identity_contrast import IdentityContrast, IdentityContrastConfig

if TYPE_CHECKING:
    from plip.models import Plip


def default_task_configs() -> dict[str, TaskConfig]:
    """All three tasks with the paper's weights: IVLC 1, TIC 0.02, IAP 0.1 (METHOD.md §3.4)."""
    return {name: TASKS[name].Config() for name in ("identity_contrast", "colorization", "attribute_prediction")}


def task_config(name: str, cfg: TaskConfig | Mapping[str, Any] | None = None) -> TaskConfig:
    """Resolve a task config given as an instance, a dict of fields or None (defaults)."""
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; registered: {sorted(TASKS)}")
    cls = TASKS[name].Config
    if cfg is None:
        return cls()
    if isinstance(cfg, Mapping):
        return cls(**cfg)
    return cfg


def build_tasks(configs: Mapping[str, TaskConfig | Mapping[str, Any] | None], model: Plip) -> dict[str, PretextTask]:
    """Instantiate the tasks whose weight is non-zero."""
    tasks = {}
    for name, raw in configs.items():
        cfg = task_config(name, raw)
        if cfg.weight != 0:
            tasks[name] = TASKS[name](cfg, model)
    return tasks


__all__ = [
    "TASKS",
    "AttributePrediction",
    "AttributePredictionConfig",
    "Colorization",
    "ColorizationConfig",
    "Features",
    "IdentityContrast",
    "IdentityContrastConfig",
    "PretextTask",
    "TaskConfig",
    "TaskOutput",
    "build_tasks",
    "default_task_configs",
    "register_task",
    "task_config",
]
