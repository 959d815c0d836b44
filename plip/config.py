"""``TrainConfig``: one frozen, typed config for a pre-training run, composed of its owners' sections.

``model`` is H4's :class:`plip.models.PlipConfig`, ``tasks`` maps task names to their ``TaskConfig``,
``data`` is :class:`plip.data.DataConfig`, ``optim`` :class:`plip.optim.OptimConfig`, and ``run`` (below) holds
what is about the run itself. Recipes in ``pipelines/`` return one; ``--set a.b=v`` edits it (``spac.config``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plip.data import DataConfig
from plip.models import PlipConfig
from plip.optim import OptimConfig
from plip.tasks import TaskConfig, default_task_configs

PRECISIONS = ("no", "bf16", "fp16")


@dataclass(frozen=True, kw_only=True, slots=True)
class RunConfig:
    """Where the run writes and how it steps, logs, checks and saves.

    Attributes:
        out: run folder (config.json, metrics.jsonl, checkpoints/, model/, eval.json).
        max_steps: stop after this many optimizer steps (None = the schedule's full length, ``optim.epochs``);
            the lr schedule is unchanged, so a short run is a prefix of the full one.
        precision: "no", "bf16" or "fp16" (Accelerate autocast; fp16 adds a grad scaler).
        cpu: force CPU even when a GPU is present.
        seed: seed of model init and of per-process randomness (IAP masks, dropout): ``seed + rank``.
        deterministic: ``torch.use_deterministic_algorithms`` (bitwise resume checks on CPU).
        log_every: console/tracker logging period in steps (metrics.jsonl gets every step).
        save_every: checkpoint period in steps (0 = only at the end); ``keep_checkpoints``: how many to keep.
        eval_every: validation period in steps (0 = only at the end; needs ``data.val_split`` shards).
        eval_batch_size: batch size of the validation encoder passes.
        trackers: Accelerate trackers to use when importable ("tensorboard", "wandb", ...).
        find_unused_parameters: DDP flag, for task sets that leave parameters without gradient.
        threads: torch intra-op threads per process (None = torch's default). On a shared CPU, 1 avoids the
            collapse of two spinning OpenMP threads when the other core is busy.
    """

    out: str = "runs/plip"
    max_steps: int | None = None
    precision: str = "no"
    cpu: bool = False
    seed: int = 0
    deterministic: bool = False
    log_every: int = 10
    save_every: int = 1000
    keep_checkpoints: int = 2
    eval_every: int = 0
    eval_batch_size: int = 128
    trackers: tuple[str, ...] = ("tensorboard",)
    find_unused_parameters: bool = False
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"run.precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.log_every < 1 or self.save_every < 0 or self.eval_every < 0 or self.keep_checkpoints < 1:
            raise ValueError("run.log_every and run.keep_checkpoints must be >= 1; save/eval periods >= 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainConfig:
    """A whole pre-training run: model, tasks, data, optimizer and run settings."""

    model: PlipConfig = field(default_factory=PlipConfig)
    tasks: dict[str, TaskConfig] = field(default_factory=default_task_configs)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self) -> None:
        if tuple(self.data.image_size) != tuple(self.model.image_size):
            raise ValueError(
                f"data.image_size {self.data.image_size} differs from model.image_size {self.model.image_size}"
            )
        if self.data.max_length > self.model.max_length:
            raise ValueError(
                f"data.max_length {self.data.max_length} exceeds model.max_length {self.model.max_length}"
            )
