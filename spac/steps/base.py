"""The step protocol of ``spac generate``: steps map one identity's items to items, dropping with a reason.

An identity travels through the steps as a list of :class:`~spac.shards.ShardItem` in input order. A step only
looks at the items still kept (``reason is None``) and may replace a record (``dataclasses.replace``) or turn it
into a drop; it never reorders or removes items, so every input record reaches the ledger with its fate.
Record steps decide per record (:class:`RecordStep`), identity steps see all kept records of one identity at
once (:class:`IdentityStep`: gender voting, balancing, identity cleaning).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from spac.records import Attributes, PersonRecord
from spac.shards.writer import ShardItem


@dataclass(frozen=True, slots=True)
class Drop:
    """A step's verdict that a record leaves the dataset; ``reason`` is a short snake_case code."""

    reason: str
    detail: str | None = None


@dataclass(frozen=True, kw_only=True)
class StepContext:
    """What steps may use besides the records: the source (to read images), the run seed and join tables."""

    source: Any = None
    seed: int = 0
    captions: Mapping[str, Any] | None = None  # source_ref -> CaptionerEntry, None when no --captions
    annotations: Mapping[str, Attributes] | None = None  # source_ref -> Attributes, None when no --attributes
    extra: Mapping[str, Any] = field(default_factory=dict)


def stable_seed(*parts: object) -> int:
    """A 32-bit seed from ``parts`` that is the same in every process and Python run (unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


class Step:
    """Base class: ``name`` is the registry key; ``__call__`` maps an identity's items to items."""

    name: ClassVar[str]

    def __call__(self, items: Sequence[ShardItem], ctx: StepContext) -> list[ShardItem]:
        raise NotImplementedError


class RecordStep(Step):
    """A step that decides per record: implement ``apply(record, ctx) -> PersonRecord | Drop``."""

    def apply(self, record: PersonRecord, ctx: StepContext) -> PersonRecord | Drop:
        raise NotImplementedError

    def __call__(self, items: Sequence[ShardItem], ctx: StepContext) -> list[ShardItem]:
        out = []
        for item in items:
            if item.reason is not None:
                out.append(item)
                continue
            result = self.apply(item.record, ctx)
            out.append(_verdict(item, result))
        return out


class IdentityStep(Step):
    """A step over all kept records of one identity: implement ``apply_group(records, ctx)`` (same length out)."""

    def apply_group(self, records: list[PersonRecord], ctx: StepContext) -> list[PersonRecord | Drop]:
        raise NotImplementedError

    def __call__(self, items: Sequence[ShardItem], ctx: StepContext) -> list[ShardItem]:
        live = [i for i, item in enumerate(items) if item.reason is None]
        if not live:
            return list(items)
        results = self.apply_group([items[i].record for i in live], ctx)
        if len(results) != len(live):
            raise RuntimeError(f"step {self.name!r} returned {len(results)} results for {len(live)} records")
        out = list(items)
        for i, result in zip(live, results, strict=True):
            out[i] = _verdict(items[i], result)
        return out


def _verdict(item: ShardItem, result: PersonRecord | Drop) -> ShardItem:
    if isinstance(result, Drop):
        return ShardItem(dataclasses.replace(item.record, image=None), result.reason, result.detail)
    return ShardItem(result)


def run_steps(steps: Sequence[Step], records: Sequence[PersonRecord], ctx: StepContext) -> list[ShardItem]:
    """Run ``steps`` over one identity; returns one item per input record, in input order."""
    items = [ShardItem(r) for r in records]
    for step in steps:
        items = step(items, ctx)
    return items
