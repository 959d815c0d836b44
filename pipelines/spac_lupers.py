"""Recipe for the SYNTH-PEDES-style build from LUPerson-NL (METHOD.md §1.1, §1.7): paper filter settings.

``spac generate --recipe pipelines/spac_lupers.py:spac_lupers_nl --root /data/LUPerson-NL --captions caps/
--workers 16 --out synth_pedes/``
"""

from __future__ import annotations

from spac.generate import GenerateConfig, ShardConfig, SourceConfig
from spac.steps.gender_vote import GenderVoteConfig
from spac.steps.identity_balance import IdentityBalanceConfig


def spac_lupers_nl() -> GenerateConfig:
    return GenerateConfig(
        source=SourceConfig(name="lupers", options={}),
        val_fraction=0.0,
        shards=ShardConfig(max_samples=10_000, max_bytes=1 << 30, records_per_unit=2_000),
        gender_vote=GenderVoteConfig(threshold=0.7),
        identity_balance=IdentityBalanceConfig(min_images=5, max_images=20),
    )
