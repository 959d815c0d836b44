"""METHOD.md §1.7 (2): one gender per identity by majority vote; identities without a clear majority are dropped.

The vote counts images whose gender is known; when the most frequent gender's share exceeds ``threshold`` every
image of the identity takes it (unknown ones included), otherwise the whole identity is dropped
(``gender_vote``). An identity with no known gender at all is left as it is.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass

from spac.records import PersonRecord
from spac.steps.base import Drop, IdentityStep, StepContext


@dataclass(frozen=True, kw_only=True)
class GenderVoteConfig:
    enabled: bool = True
    threshold: float = 0.7
    """The winning gender needs a share strictly above this (paper: 0.7)."""


class GenderVote(IdentityStep):
    name = "gender_vote"

    def __init__(self, cfg: GenderVoteConfig) -> None:
        self.cfg = cfg

    def apply_group(self, records: list[PersonRecord], ctx: StepContext) -> list[PersonRecord | Drop]:
        votes = Counter(r.attributes.gender for r in records if r.attributes.gender is not None)
        if not votes:
            return list(records)
        # most_common breaks ties by first occurrence, which is deterministic for a fixed input order
        winner, count = votes.most_common(1)[0]
        share = count / sum(votes.values())
        if share <= self.cfg.threshold:
            detail = f"majority {winner!r} has share {share:.2f} <= {self.cfg.threshold}"
            return [Drop("gender_vote", detail) for _ in records]
        return [
            r if r.attributes.gender == winner
            else dataclasses.replace(r, attributes=dataclasses.replace(r.attributes, gender=winner))
            for r in records
        ]
