"""Recipes for ``spac generate`` on the embedded demo set (no files needed).

``spac generate --recipe pipelines/spac_demo.py:spac_demo --out shards/`` builds the default demo dataset;
``spac_demo_tiny`` is the seconds-long variant the tests and the throughput benchmark use.
"""

from __future__ import annotations

import dataclasses

from spac.generate import GenerateConfig, ShardConfig, SourceConfig


def spac_demo() -> GenerateConfig:
    """300 demo identities x 6 images, 10 % of the identities in ``val``, paper filters (METHOD.md §1.7)."""
    return GenerateConfig(
        source=SourceConfig(name="demo", options={"identities": 300, "images_per_identity": 6}),
        seed=0,
        val_fraction=0.1,
        shards=ShardConfig(max_samples=400, max_bytes=64 * 2**20, records_per_unit=120),
    )


def spac_demo_tiny() -> GenerateConfig:
    """20 identities x 6 images, small shards so rollover and parallel writing are exercised."""
    cfg = spac_demo()
    return dataclasses.replace(
        cfg,
        source=SourceConfig(name="demo", options={"identities": 20, "images_per_identity": 6}),
        val_fraction=0.2,
        shards=ShardConfig(max_samples=24, max_bytes=64 * 2**20, records_per_unit=30),
    )
