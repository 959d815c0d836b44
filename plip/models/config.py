"""``PlipConfig``: everything that fixes the PLIP encoders' shapes, poolings, freezing and preprocessing.

Defaults follow the NeurIPS paper (METHOD.md §2, §7): RN50 at 256x128, max-pool + linear image pooling, masked
mean text pooling, BERT-base with only its last 4 layers (+ pooler when used) trainable. ``released()`` gives
the variant of the released checkpoint (attention pool, BERT pooler); ``tiny()`` a few-kB model for tests.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from plip.transforms import SYNTH_PEDES_MEAN, SYNTH_PEDES_STD

from .resnet import RESNET_LAYERS

IMAGE_POOLS = ("max", "attention")
TEXT_POOLS = ("mean", "mean_all", "pooler")


@dataclass(frozen=True, kw_only=True)
class PlipConfig:
    """Configuration of :class:`plip.models.Plip`.

    Attributes:
        depth: ResNet depth, one of 50/101/152 (ignored when ``layers`` is given).
        layers: explicit blocks per stage (tests use ``(1, 1, 1, 1)``).
        width: ResNet stem width (64 for the real models).
        image_size: (H, W) the model is built for (the attention pool's grid is ``image_size // 32``).
        image_pool: ``"max"`` (paper: global max-pool + linear) or ``"attention"`` (released checkpoint).
        attn_heads: heads of the attention pool (8 in the released code).
        embed_dim: global embedding size of both encoders; must equal the text model's hidden size, as PLIP
            has no projection head on the text side.
        text_model: local folder or Hugging Face id loaded with ``from_pretrained`` when ``text_config`` is None.
        text_config: a transformers config as a dict (``model_type`` defaults to ``"bert"``) to build the text
            model from scratch (tests, and checkpoints, which store the full config here).
        text_pool: ``"mean"`` (masked mean of last hidden states, paper), ``"mean_all"`` (unmasked mean over
            all positions, early released code) or ``"pooler"`` (BERT pooler output, released checkpoint).
        text_trainable_layers: keep only the last k transformer layers trainable (4 = layers 8-11 of BERT-base,
            METHOD.md §2.2), plus the pooler when ``text_pool == "pooler"``; None trains everything.
        max_length: tokenizer max length (64).
        mean, std: normalisation of uint8 images.
        vocab_size, mask_token_id, pad_token_id: filled from the tokenizer by ``build_model``.
    """

    depth: int = 50
    layers: tuple[int, int, int, int] | None = None
    width: int = 64
    image_size: tuple[int, int] = (256, 128)
    image_pool: str = "max"
    attn_heads: int = 8
    embed_dim: int = 768
    text_model: str | None = "bert-base-uncased"
    text_config: dict[str, Any] | None = field(default=None, hash=False)
    text_pool: str = "mean"
    text_trainable_layers: int | None = 4
    max_length: int = 64
    mean: tuple[float, float, float] = SYNTH_PEDES_MEAN
    std: tuple[float, float, float] = SYNTH_PEDES_STD
    vocab_size: int | None = None
    mask_token_id: int | None = None
    pad_token_id: int | None = None

    def __post_init__(self) -> None:
        if self.layers is None and self.depth not in RESNET_LAYERS:
            raise ValueError(f"depth must be one of {sorted(RESNET_LAYERS)} (or give layers=), got {self.depth}")
        if self.image_pool not in IMAGE_POOLS:
            raise ValueError(f"image_pool must be one of {IMAGE_POOLS}, got {self.image_pool!r}")
        if self.text_pool not in TEXT_POOLS:
            raise ValueError(f"text_pool must be one of {TEXT_POOLS}, got {self.text_pool!r}")
        if self.text_model is None and self.text_config is None:
            raise ValueError("give text_model (path or Hub id) or text_config (a transformers config dict)")
        h, w = self.image_size
        if h % 32 or w % 32:
            raise ValueError(f"image_size must be a multiple of 32 (ResNet stride), got {self.image_size}")
        # Normalise JSON-loaded lists back to tuples so configs compare equal after a round-trip.
        for name in ("layers", "image_size", "mean", "std"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))

    @property
    def stage_layers(self) -> tuple[int, int, int, int]:
        return tuple(self.layers) if self.layers is not None else RESNET_LAYERS[self.depth]

    def replace(self, **changes: Any) -> PlipConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlipConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown PlipConfig fields: {unknown}")
        return cls(**data)

    @classmethod
    def released(cls, text_model: str = "bert-base-uncased", **overrides: Any) -> PlipConfig:
        """The released PLIP RN50 checkpoint's layout: attention pool (8 heads) and BERT pooler output."""
        return cls(**{"image_pool": "attention", "text_pool": "pooler", "text_model": text_model, **overrides})

    @classmethod
    def tiny(cls, vocab_size: int | None = None, **overrides: Any) -> PlipConfig:
        """A tiny model for tests and the CPU demo: RN(1,1,1,1) width 8, 2-layer BERT of hidden size 32."""
        text_config = {
            "model_type": "bert",
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "max_position_embeddings": 64,
        }
        if vocab_size is not None:
            text_config["vocab_size"] = vocab_size
        base = {
            "layers": (1, 1, 1, 1),
            "width": 8,
            "embed_dim": 32,
            "attn_heads": 2,
            "text_model": None,
            "text_config": text_config,
            "text_trainable_layers": None,
            "vocab_size": vocab_size,
        }
        return cls(**{**base, **overrides})
