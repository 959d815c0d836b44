"""Deterministic planning for ``spac generate``: work units from the source's identity order, then output shards.

Two plans, both pure functions of their inputs (never of worker scheduling):

1. :func:`plan_units` cuts the source's identity stream into work units of about ``records_per_unit`` input
   records, whole identities only. Workers process units in any order.
2. :func:`plan_shards` runs once every unit is done and the kept count and tar bytes of every identity are
   known: it picks the ``val`` identities with a seeded draw, then fills ``{split}-{shard}`` tars identity by
   identity in source order, rolling over before a shard would pass ``max_samples`` or ``max_bytes``. An
   identity is never split; one larger than the limits gets a shard of its own. Identities whose records were
   all dropped still belong to a shard (their ledger rows live there), always in ``train``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from spac.records import PersonRecord
from spac.shards.layout import MAX_SAMPLES_PER_SHARD, archive_bytes
from spac.steps.base import stable_seed


@dataclass(frozen=True, slots=True)
class IdentitySummary:
    """What planning needs to know about one processed identity."""

    ordinal: int  # position in the source's identity order
    unit: int
    person_id: int
    records: int  # input records
    kept: int
    payload: int  # tar bytes its kept samples take (an upper bound: keys sized for the longest split prefix)


@dataclass(frozen=True, slots=True)
class ShardPlan:
    split: str
    shard: int
    ordinals: tuple[int, ...]  # identities in this shard, in source order
    units: tuple[int, ...]  # units holding them
    samples: int
    payload: int


def plan_units(identities: Iterable[list[PersonRecord]], records_per_unit: int
               ) -> Iterator[tuple[int, list[tuple[int, list[PersonRecord]]]]]:
    """Yield ``(unit, [(ordinal, records), ...])`` with whole identities and about ``records_per_unit`` records."""
    unit, batch, size = 0, [], 0
    for ordinal, records in enumerate(identities):
        if not records:
            continue
        batch.append((ordinal, records))
        size += len(records)
        if size >= records_per_unit:
            yield unit, batch
            unit, batch, size = unit + 1, [], 0
    if batch:
        yield unit, batch


def choose_val(identities: list[IdentitySummary], fraction: float, seed: int) -> set[int]:
    """Ordinals of the identities that go to ``val``: ``round(fraction * n)`` of the n identities with kept images.

    At least one when ``fraction > 0`` and at most n - 1, so neither split ends up empty by rounding.
    """
    eligible = [s.ordinal for s in identities if s.kept > 0]
    if fraction <= 0 or len(eligible) < 2:
        return set()
    k = min(max(1, round(fraction * len(eligible))), len(eligible) - 1)
    return set(random.Random(stable_seed(seed, "val_split")).sample(eligible, k))


def plan_shards(identities: list[IdentitySummary], *, val: set[int], max_samples: int, max_bytes: int
                ) -> list[ShardPlan]:
    """Assign identities (sorted by ordinal) to shards per split; see the module docstring for the rules."""
    plans: list[ShardPlan] = []
    for split in ("train", "val"):
        members = [s for s in identities if (s.ordinal in val) == (split == "val")]
        current: list[IdentitySummary] = []
        samples = payload = 0
        for s in sorted(members, key=lambda s: s.ordinal):
            full = samples + s.kept > max_samples or archive_bytes(payload + s.payload) > max_bytes
            if s.kept > 0 and samples > 0 and full:
                plans.append(_plan(split, len([p for p in plans if p.split == split]), current))
                current, samples, payload = [], 0, 0
            if s.kept > MAX_SAMPLES_PER_SHARD:
                raise ValueError(f"identity {s.person_id} has {s.kept} images; a shard holds at most "
                                 f"{MAX_SAMPLES_PER_SHARD}")
            current.append(s)
            samples += s.kept
            payload += s.payload
        if current:
            plans.append(_plan(split, len([p for p in plans if p.split == split]), current))
    return plans


def _plan(split: str, shard: int, members: list[IdentitySummary]) -> ShardPlan:
    return ShardPlan(
        split=split,
        shard=shard,
        ordinals=tuple(s.ordinal for s in members),
        units=tuple(sorted({s.unit for s in members})),
        samples=sum(s.kept for s in members),
        payload=sum(s.payload for s in members),
    )
