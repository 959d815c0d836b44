"""The pretext-task protocol (STYLE.md §4.5): a task owns its config, heads and loss; a registry finds it by name.

Encoder outputs of the clean batch are shared through :class:`Features`, computed lazily and at most once per
step, so the objective runs each encoder once on the clean inputs whatever tasks are enabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import torch
from torch import nn

from plip.batch import Batch

if TYPE_CHECKING:
    from plip.models import ImageFeatures, Plip, TextFeatures


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """Base of every task's config. ``weight`` multiplies the task's loss in the total; 0 disables the task."""

    weight: float = 1.0


@dataclass(frozen=True)
class TaskOutput:
    """``loss``: scalar, reduced, unweighted; ``metrics``: detached scalars logged as ``<task>/<metric>``."""

    loss: torch.Tensor
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)


class Features:
    """Clean-input encoder outputs, computed on first access and cached for the other tasks."""

    def __init__(self, model: Plip, batch: Batch) -> None:
        self._model = model
        self._batch = batch
        self._image: ImageFeatures | None = None
        self._text: TextFeatures | None = None

    @property
    def image(self) -> ImageFeatures:
        if self._image is None:
            self._image = self._model.encode_image(self._batch.images)
        return self._image

    @property
    def text(self) -> TextFeatures:
        if self._text is None:
            self._text = self._model.encode_text(self._batch.input_ids, self._batch.attention_mask)
        return self._text


class PretextTask(nn.Module):
    """A pretext task: subclass, set ``name``/``requires``/``Config`` and decorate with :func:`register_task`.

    Args:
        cfg: the task's config (an instance of ``Config``).
        model: the :class:`Plip` it will train; read for sizes only (the model is not a submodule of the task).
    """

    name: ClassVar[str]
    requires: ClassVar[frozenset[str]] = frozenset()
    Config: ClassVar[type[TaskConfig]] = TaskConfig

    def __init__(self, cfg: TaskConfig, model: Plip) -> None:
        super().__init__()
        if not isinstance(cfg, self.Config):
            raise TypeError(f"task {self.name!r} needs a {self.Config.__name__}, got {type(cfg).__name__}")
        self.cfg = cfg

    def forward(self, model: Plip, batch: Batch, feats: Features, progress: float) -> TaskOutput:
        raise NotImplementedError


TASKS: dict[str, type[PretextTask]] = {}


def register_task(cls: type[PretextTask]) -> type[PretextTask]:
    """Class decorator: add ``cls`` to :data:`TASKS` under ``cls.name``."""
    if cls.name in TASKS and TASKS[cls.name] is not cls:
        raise ValueError(f"task name {cls.name!r} registered twice")
    TASKS[cls.name] = cls
    return cls
