"""Pipeline steps of ``spac generate``: joins, image checks, text (spans, prompt caption), filters.

Each step is one file holding its config dataclass and its step class; :func:`build_steps` turns a
:class:`~spac.generate.GenerateConfig` into the ordered list, leaving out steps that are switched off.
"""

from spac.steps.base import Drop, IdentityStep, RecordStep, Step, StepContext, run_steps, stable_seed

__all__ = ["Drop", "IdentityStep", "RecordStep", "Step", "StepContext", "run_steps", "stable_seed"]
