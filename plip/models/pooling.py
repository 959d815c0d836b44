"""Global image poolings on the last stage map: the paper's max-pool + linear and the released attention pool.

METHOD.md §2.1 / §7.1: the NeurIPS paper pools with max + Linear(2048 -> 768); the released checkpoint uses CLIP's
AttentionPool2d (mean token + positional embedding, one attention query) with ``c_proj`` 2048 -> 768.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaxPoolHead(nn.Module):
    """Global max-pool over H x W, then a linear projection. Works at any input size."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W] -> [B, out_dim]``."""
        return self.proj(torch.amax(x, dim=(2, 3)))


class AttentionPool2d(nn.Module):
    """CLIP's QKV attention pool; the query is the mean token. Needs the (H, W) grid it was built for.

    Parameter names (``positional_embedding``, ``q_proj``, ``k_proj``, ``v_proj``, ``c_proj``) match the
    released ``attnpool`` so its weights load directly.
    """

    def __init__(self, grid: tuple[int, int], embed_dim: int, num_heads: int, output_dim: int | None = None) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.grid = tuple(grid)
        self.positional_embedding = nn.Parameter(torch.randn(grid[0] * grid[1] + 1, embed_dim) / embed_dim**0.5)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim or embed_dim)
        self.num_heads = num_heads
        std = embed_dim**-0.5  # CLIP init
        for proj in (self.q_proj, self.k_proj, self.v_proj, self.c_proj):
            nn.init.normal_(proj.weight, std=std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W] -> [B, output_dim]``; (H, W) must equal the grid given at construction."""
        if tuple(x.shape[2:]) != self.grid:
            raise ValueError(
                f"attention pool was built for a {self.grid} grid (input size / 32) but got {tuple(x.shape[2:])}"
            )
        x = x.flatten(start_dim=2).permute(2, 0, 1)  # [HW, B, C]
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)  # [HW+1, B, C]
        x = x + self.positional_embedding[:, None, :].to(x.dtype)
        x, _ = F.multi_head_attention_forward(
            query=x[:1],
            key=x,
            value=x,
            embed_dim_to_check=x.shape[-1],
            num_heads=self.num_heads,
            q_proj_weight=self.q_proj.weight,
            k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight,
            in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None,
            bias_v=None,
            add_zero_attn=False,
            dropout_p=0.0,
            out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True,
            training=self.training,
            need_weights=False,
        )
        return x.squeeze(0)
