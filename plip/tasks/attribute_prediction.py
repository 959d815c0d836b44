"""IAP: image-guided attribute prediction, a masked-language task on whole attribute phrases (METHOD.md §3.2).

Each attribute phrase (``Batch.phrase_ids``) is masked with probability r(progress) = start + (end - start) *
f(progress), f = sqrt by default (Table 16(b)); the masked caption's token states are fused with the clean image
embedding (sum, or concat + linear), passed through pre-LN transformer block(s) and a vocabulary head; the loss is
cross-entropy on the masked tokens only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from plip.batch import Batch

from .base import Features, PretextTask, TaskConfig, TaskOutput, register_task

if TYPE_CHECKING:
    from plip.models import Plip

SCHEDULES = {"sqrt": math.sqrt, "linear": lambda x: x, "square": lambda x: x * x, "constant": lambda x: 0.0}


@dataclass(frozen=True, kw_only=True)
class AttributePredictionConfig(TaskConfig):
    """``ratio_start``/``ratio_end``/``schedule``: phrase mask ratio along training progress; ``replace``:
    "mask" (every masked token becomes [MASK]) or "bert" (80% [MASK] / 10% random / 10% kept); ``fusion``:
    "sum" (main text, Fig. 2) or "concat" (A.6.3); ``num_layers``/``num_heads`` of the transformer blocks
    (heads None: hidden // 64, at least 1)."""

    weight: float = 0.1
    ratio_start: float = 0.2
    ratio_end: float = 0.8
    schedule: str = "sqrt"
    replace: str = "mask"
    fusion: str = "sum"
    num_layers: int = 1
    num_heads: int | None = None
    mlp_ratio: float = 4.0
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"attribute_prediction schedule must be one of {sorted(SCHEDULES)}, got {self.schedule!r}"
            )
        if self.replace not in ("mask", "bert"):
            raise ValueError(f"attribute_prediction replace must be 'mask' or 'bert', got {self.replace!r}")
        if self.fusion not in ("sum", "concat"):
            raise ValueError(f"attribute_prediction fusion must be 'sum' or 'concat', got {self.fusion!r}")
        if not 0.0 <= self.ratio_start <= 1.0 or not 0.0 <= self.ratio_end <= 1.0:
            raise ValueError("mask ratios must lie in [0, 1]")


def mask_ratio(progress: float, start: float = 0.2, end: float = 0.8, schedule: str = "sqrt") -> float:
    """Phrase mask ratio at ``progress`` in [0, 1] (clamped): ``start + (end - start) * f(progress)``."""
    p = min(max(float(progress), 0.0), 1.0)
    return start + (end - start) * SCHEDULES[schedule](p)


def sample_phrase_mask(
    phrase_ids: torch.Tensor, ratio: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """bool ``[B, L]``: tokens of whole phrases, each phrase chosen independently with probability ``ratio``.

    At least one phrase is masked whenever the batch has any, so the loss is always defined.
    """
    has_phrase = phrase_ids > 0
    if not bool(has_phrase.any()):
        return has_phrase
    B, K = phrase_ids.shape[0], int(phrase_ids.max()) + 1
    chosen = torch.rand(B, K, device=phrase_ids.device, generator=generator) < ratio  # per (row, phrase)
    masked = has_phrase & chosen.gather(1, phrase_ids)
    if not bool(masked.any()):
        i, j = has_phrase.nonzero()[torch.randint(int(has_phrase.sum()), (1,), generator=generator).item()]
        masked = (
            has_phrase & (phrase_ids == phrase_ids[i, j]) & (torch.arange(B, device=phrase_ids.device) == i)[:, None]
        )
    return masked


@register_task
class AttributePrediction(PretextTask):
    """Predict masked attribute-phrase tokens from the masked caption fused with the image embedding."""

    name = "attribute_prediction"
    requires = frozenset({"images", "input_ids", "attention_mask", "phrase_ids"})
    Config = AttributePredictionConfig

    def __init__(self, cfg: AttributePredictionConfig, model: Plip) -> None:
        super().__init__(cfg, model)
        mask_id = model.config.mask_token_id
        if mask_id is None and model.tokenizer is not None:
            mask_id = model.tokenizer.mask_token_id
        if mask_id is None:
            raise ValueError("attribute_prediction needs the [MASK] id: build the model with a tokenizer")
        self.mask_token_id = int(mask_id)
        self.vocab_size = model.vocab_size
        d = model.text.hidden_size
        heads = cfg.num_heads or max(1, d // 64)
        self.fuse = nn.Linear(2 * d, d) if cfg.fusion == "concat" else None
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d, heads, int(cfg.mlp_ratio * d), cfg.dropout, activation="gelu", batch_first=True, norm_first=True
            )
            for _ in range(cfg.num_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, self.vocab_size)

    def corrupt(self, input_ids: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """Replace the masked tokens ([MASK], or BERT's 80/10/10 when ``replace == "bert"``)."""
        ids = input_ids.clone()
        if self.cfg.replace == "mask":
            ids[masked] = self.mask_token_id
            return ids
        u = torch.rand(ids.shape, device=ids.device)
        ids[masked & (u < 0.8)] = self.mask_token_id
        rand = masked & (u >= 0.8) & (u < 0.9)
        ids[rand] = torch.randint(self.vocab_size, (int(rand.sum()),), device=ids.device)
        return ids

    def forward(self, model: Plip, batch: Batch, feats: Features, progress: float) -> TaskOutput:
        cfg: AttributePredictionConfig = self.cfg
        ratio = mask_ratio(progress, cfg.ratio_start, cfg.ratio_end, cfg.schedule)
        masked = sample_phrase_mask(batch.phrase_ids, ratio)
        tokens = model.encode_text(self.corrupt(batch.input_ids, masked), batch.attention_mask).tokens  # [B, L, D]
        image = feats.image.embed[:, None, :].to(tokens.dtype).expand_as(tokens)
        h = self.fuse(torch.cat([tokens, image], dim=-1)) if self.fuse is not None else tokens + image
        pad = batch.attention_mask == 0
        for block in self.blocks:
            h = block(h, src_key_padding_mask=pad)
        if not bool(masked.any()):  # no phrase in the whole batch: a zero loss that still reaches every weight
            zero = self.head(self.norm(h[:, 0])).float().sum() * 0.0
            metrics = {"accuracy": zero.detach(), "mask_ratio": zero.new_tensor(ratio), "masked_tokens": zero.detach()}
            return TaskOutput(loss=zero, metrics=metrics)
        logits = self.head(self.norm(h[masked])).float()  # [M, V], only where a loss is taken
        target = batch.input_ids[masked]
        loss = F.cross_entropy(logits, target)
        metrics = {
            "accuracy": (logits.detach().argmax(-1) == target).float().mean(),
            "mask_ratio": logits.new_tensor(ratio),
            "masked_tokens": masked.sum().float(),
        }
        return TaskOutput(loss=loss, metrics=metrics)
