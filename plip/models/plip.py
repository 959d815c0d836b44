"""``Plip``: the image encoder (modified ResNet + global pooling) and the text encoder, with typed outputs.

Images arrive as uint8 and are normalised here, on the model's device (ARCHITECTURE.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from plip.transforms import normalize

from .config import PlipConfig
from .pooling import AttentionPool2d, MaxPoolHead
from .resnet import ModifiedResNet
from .text import TextEncoder, build_text_model


@dataclass(frozen=True)
class ImageFeatures:
    """``maps``: the four stage maps ``[B, C_k, H/2**(k+2), W/2**(k+2)]``; ``embed``: global ``[B, D]``."""

    maps: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
    embed: torch.Tensor


@dataclass(frozen=True)
class TextFeatures:
    """``tokens``: last hidden states ``[B, L, D]``; ``embed``: global ``[B, D]``."""

    tokens: torch.Tensor
    embed: torch.Tensor


class Plip(nn.Module):
    """The PLIP dual encoder. Build it with :func:`build_model`.

    Attributes:
        visual: :class:`ModifiedResNet` trunk; ``visual_pool``: global pooling head; ``text``: :class:`TextEncoder`.
        tokenizer: the tokenizer given to ``build_model`` (or None); not a parameter, not saved in state dicts.
    """

    def __init__(self, config: PlipConfig, text_encoder: TextEncoder, tokenizer: Any = None) -> None:
        super().__init__()
        self.config = config
        self.visual = ModifiedResNet(config.stage_layers, width=config.width)
        c4 = self.visual.stage_channels[-1]
        if config.image_pool == "attention":
            grid = (config.image_size[0] // 32, config.image_size[1] // 32)
            self.visual_pool: nn.Module = AttentionPool2d(grid, c4, config.attn_heads, config.embed_dim)
        else:
            self.visual_pool = MaxPoolHead(c4, config.embed_dim)
        self.text = text_encoder
        self.tokenizer = tokenizer
        self.register_buffer("pixel_mean", torch.tensor(config.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(config.std).view(1, 3, 1, 1), persistent=False)

    @property
    def stage_channels(self) -> tuple[int, int, int, int]:
        return self.visual.stage_channels

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    @property
    def vocab_size(self) -> int:
        return self.text.vocab_size

    def normalize_images(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``[B, 3, H, W]`` -> normalised float; float input is returned as is (taken as normalised)."""
        if images.dtype == torch.uint8:
            return normalize(images.to(self.pixel_mean.device), self.pixel_mean.view(3), self.pixel_std.view(3))
        return images

    def encode_image(self, images: torch.Tensor) -> ImageFeatures:
        """uint8 (normalised here) or already-normalised float ``[B, 3, H, W]`` -> :class:`ImageFeatures`."""
        maps = self.visual(self.normalize_images(images))
        return ImageFeatures(maps=maps, embed=self.visual_pool(maps[-1]))

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextFeatures:
        """``[B, L]`` token ids and mask -> :class:`TextFeatures`."""
        tokens, embed = self.text(input_ids, attention_mask)
        return TextFeatures(tokens=tokens, embed=embed)


def build_model(cfg: PlipConfig, tokenizer: Any = None) -> Plip:
    """Build :class:`Plip` from a config; a tokenizer fills ``vocab_size`` / ``mask_token_id`` / ``pad_token_id``.

    Raises:
        ValueError: when the tokenizer's vocabulary and the text model's disagree, or when the text hidden size
            differs from ``cfg.embed_dim`` (PLIP compares the two 768-d vectors directly, no projection).
    """
    text_config = dict(cfg.text_config) if cfg.text_config is not None else None
    if tokenizer is not None:
        vocab = len(tokenizer)
        if text_config is not None:
            text_config.setdefault("vocab_size", vocab)
            text_config.setdefault("pad_token_id", tokenizer.pad_token_id)
        cfg = cfg.replace(
            text_config=text_config,
            vocab_size=cfg.vocab_size or vocab,
            mask_token_id=cfg.mask_token_id if cfg.mask_token_id is not None else tokenizer.mask_token_id,
            pad_token_id=cfg.pad_token_id if cfg.pad_token_id is not None else tokenizer.pad_token_id,
        )
    text_model = build_text_model(cfg.text_model, text_config)
    if tokenizer is not None and len(tokenizer) > text_model.config.vocab_size:
        raise ValueError(
            f"tokenizer has {len(tokenizer)} tokens but the text model's vocabulary is {text_model.config.vocab_size}"
        )
    if text_model.config.hidden_size != cfg.embed_dim:
        raise ValueError(
            f"embed_dim {cfg.embed_dim} differs from the text model's hidden size {text_model.config.hidden_size}"
        )
    if cfg.max_length > getattr(text_model.config, "max_position_embeddings", cfg.max_length):
        raise ValueError(f"max_length {cfg.max_length} exceeds the text model's position embeddings")
    cfg = cfg.replace(vocab_size=text_model.config.vocab_size)
    encoder = TextEncoder(text_model, pool=cfg.text_pool, trainable_layers=cfg.text_trainable_layers)
    return Plip(cfg, encoder, tokenizer=tokenizer)
