"""The prefix heads of SPAC (METHOD.md §1.4 table): attribute branches, the sentence branch, style encoders.

Each branch turns the FPN map into ``tokens`` prefix embeddings of the decoder's width ``d`` (768 for GPT-2
small): attribute branch = Conv k3 s2 -> AvgPool -> Linear(c, d) -> Dropout -> Linear(d, 3d) -> Dropout ->
LeakyReLU(1/5.5) -> (3, d); sentence branch = 2x Conv k3 s2 -> ... -> Linear(c, 2d) -> Linear(2d, 5d) -> (5, d).
A style encoder is a linear map (``d -> d`` per token, with bias) over the concatenated 23 prefix tokens.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn


class PrefixBranch(nn.Module):
    """``forward(fmap [B, c, h, w]) -> [B, tokens, d]``; ``convs`` stride-2 convs, hidden width ``hidden``."""

    def __init__(self, channels: int, d: int, *, tokens: int, convs: int, hidden: int, dropout: float,
                 slope: float, pool: tuple[int, int] = (1, 1)) -> None:
        super().__init__()
        self.tokens = tokens
        self.convs = nn.Sequential(*[nn.Conv2d(channels, channels, 3, stride=2, padding=1) for _ in range(convs)])
        # (1, 1) is the paper's global AvgPool; a coarse grid keeps where a feature is (see model.attribute_pool).
        self.pool = nn.AdaptiveAvgPool2d(tuple(pool))
        self.mlp = nn.Sequential(
            nn.Linear(channels * pool[0] * pool[1], hidden),
            nn.Dropout(dropout),
            nn.Linear(hidden, tokens * d),
            nn.Dropout(dropout),
            nn.LeakyReLU(slope),
        )

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.convs(fmap)).flatten(1)  # [B, c * grid cells]
        return rearrange(self.mlp(x), "b (t d) -> b t d", t=self.tokens)


def attribute_branch(channels: int, d: int, *, tokens: int = 3, dropout: float = 0.25, slope: float = 1 / 5.5,
                     pool: tuple[int, int] = (1, 1)) -> PrefixBranch:
    """One Conv k3 s2, AvgPool to ``pool``, Linear(c * cells, d), Linear(d, tokens * d): the CNN-MLP branch."""
    return PrefixBranch(channels, d, tokens=tokens, convs=1, hidden=d, dropout=dropout, slope=slope, pool=pool)


def sentence_branch(channels: int, d: int, *, tokens: int = 5, dropout: float = 0.25,
                    slope: float = 1 / 5.5) -> PrefixBranch:
    """Two Conv k3 s2, Linear(c, 2d), Linear(2d, tokens * d): the sentence ("relation") branch."""
    return PrefixBranch(channels, d, tokens=tokens, convs=2, hidden=2 * d, dropout=dropout, slope=slope)


class StyleEncoder(nn.Module):
    """SE_k of equation (9): a linear transformation of every token of the concatenated prefix.

    "Two linear transformation matrices with different weights" (METHOD.md §1.4); we read it as one ``d x d``
    matrix (plus bias) applied per token, so a style re-maps the prefix space while GPT-2's attention mixes the
    23 tokens. Initialised near the identity so both styles start from the shared content.
    """

    def __init__(self, d: int) -> None:
        super().__init__()
        self.linear = nn.Linear(d, d)
        with torch.no_grad():
            self.linear.weight.copy_(torch.eye(d) + 0.02 * torch.randn(d, d))
            self.linear.bias.zero_()

    def forward(self, prefix: torch.Tensor) -> torch.Tensor:
        return self.linear(prefix)
