"""METHOD.md §1.2 step 1 ("filter-out") of the Seed Filter: drop images that do not look like their identity.

For one identity, repeatedly take the image least similar (cosine) to the centre of the *other* images and
exclude it while that similarity is below ``threshold`` (paper: 0.6). The paper does not name its feature
extractor; spac stays torch-free here, so the features are colour histograms (joint RGB, square-rooted, of
the central crop): they catch wrong-person crops with different clothing colours, the cue the attributes rest
on. Reassignment (σr) and merging (σm) of the paper's steps 2-3 act across neighbouring identities and are not
done by this per-identity step; excluded images are dropped (``seed_filter``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from spac.records import PersonRecord
from spac.steps.base import Drop, IdentityStep, StepContext


@dataclass(frozen=True, kw_only=True)
class SeedFilterConfig:
    enabled: bool = False
    threshold: float = 0.6
    """Exclude while the worst image's similarity to the centre of the others is below this (paper σs)."""
    bins: int = 6
    """Histogram bins per colour channel."""


def colour_features(image: bytes, bins: int):
    """A unit-norm feature vector: square-rooted joint RGB histogram of the image's central crop."""
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(image)) as img:
        rgb = np.asarray(img.convert("RGB").resize((32, 64)))
    crop = rgb[8:56, 6:26].reshape(-1, 3).astype(np.int64) * bins // 256
    hist = np.bincount((crop[:, 0] * bins + crop[:, 1]) * bins + crop[:, 2], minlength=bins**3).astype(np.float64)
    vec = np.sqrt(hist / hist.sum())
    return vec / np.linalg.norm(vec)


class SeedFilter(IdentityStep):
    name = "seed_filter"

    def __init__(self, cfg: SeedFilterConfig) -> None:
        self.cfg = cfg

    def apply_group(self, records: list[PersonRecord], ctx: StepContext) -> list[PersonRecord | Drop]:
        import numpy as np

        if len(records) < 3:  # with two images neither is an outlier of the other
            return list(records)
        feats = np.stack([colour_features(r.image, self.cfg.bins) for r in records])
        alive = list(range(len(records)))
        verdict: list[PersonRecord | Drop] = list(records)
        while len(alive) >= 3:
            x = feats[alive]
            others = x.sum(0, keepdims=True) - x  # centre of the other samples, one row per sample
            others /= np.linalg.norm(others, axis=1, keepdims=True)
            sims = (x * others).sum(1)
            worst = int(np.argmin(sims))
            if sims[worst] >= self.cfg.threshold:
                break
            verdict[alive[worst]] = Drop("seed_filter", f"similarity {sims[worst]:.3f} < {self.cfg.threshold}")
            del alive[worst]
        return verdict
