"""METHOD.md §1.7 (3): drop identities with too few images and keep a seeded random subset of large ones."""

from __future__ import annotations

import random
from dataclasses import dataclass

from spac.records import PersonRecord
from spac.steps.base import Drop, IdentityStep, StepContext, stable_seed


@dataclass(frozen=True, kw_only=True)
class IdentityBalanceConfig:
    enabled: bool = True
    min_images: int = 5
    """Identities with fewer kept images are dropped (``identity_too_small``; paper: 5)."""
    max_images: int = 20
    """Identities with more keep a random subset of this size (``identity_capped``; paper: 20)."""

    def __post_init__(self) -> None:
        if not 1 <= self.min_images <= self.max_images:
            raise ValueError(f"identity_balance needs 1 <= min_images <= max_images, got {self}")


class IdentityBalance(IdentityStep):
    name = "identity_balance"

    def __init__(self, cfg: IdentityBalanceConfig) -> None:
        self.cfg = cfg

    def apply_group(self, records: list[PersonRecord], ctx: StepContext) -> list[PersonRecord | Drop]:
        n = len(records)
        if n < self.cfg.min_images:
            return [Drop("identity_too_small", f"{n} < {self.cfg.min_images} images") for _ in records]
        if n <= self.cfg.max_images:
            return list(records)
        # seeded by (run seed, identity) so the choice is the same whichever worker draws it
        rng = random.Random(stable_seed(ctx.seed, "identity_balance", records[0].source, records[0].person_id))
        keep = set(rng.sample(range(n), self.cfg.max_images))
        return [r if i in keep else Drop("identity_capped", f"{n} > {self.cfg.max_images} images")
                for i, r in enumerate(records)]
