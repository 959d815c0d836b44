"""METHOD.md §1.7 (1): drop images whose attributes are mostly unknown -- poor crops produce unknowns."""

from __future__ import annotations

from dataclasses import dataclass

from spac.records import SLOTS, PersonRecord
from spac.steps.base import Drop, RecordStep, StepContext


@dataclass(frozen=True, kw_only=True)
class AttributeQualityConfig:
    enabled: bool = True
    max_unknown: int = 2
    """Drop an image with more unknown slots than this (paper: >= 3 unknown drops)."""
    drop_if_upper_and_lower_unknown: bool = True
    """Paper: an image whose upper-body and lower-body clothing are both unknown is dropped."""


class AttributeQuality(RecordStep):
    name = "attribute_quality"

    def __init__(self, cfg: AttributeQualityConfig) -> None:
        self.cfg = cfg

    def apply(self, record: PersonRecord, ctx: StepContext) -> PersonRecord | Drop:
        attrs = record.attributes
        unknown = len(SLOTS) - len(attrs.known())
        if unknown > self.cfg.max_unknown:
            return Drop("attribute_quality", f"{unknown} unknown attributes")
        if self.cfg.drop_if_upper_and_lower_unknown and attrs.upper is None and attrs.lower is None:
            return Drop("attribute_quality", "upper and lower both unknown")
        return record
