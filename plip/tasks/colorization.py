"""TIC: text-guided image colorization (METHOD.md §2.3, §3.1).

The gray image is made on the device; the encoder's four stage maps of it are fused FPN-style into
4C x H/4 x W/4, modulated by two multimodal SE blocks conditioned on the caption's global embedding, and
deconvolved back to 3 x H x W; the loss is a Euclidean (MSE by default) regression to the colour image.
Layer layout follows the paper's A.6.2 and the decoder briefly published in the official repo (commit 0ad9077).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from plip.batch import Batch

from .base import Features, PretextTask, TaskConfig, TaskOutput, register_task

if TYPE_CHECKING:
    from plip.models import Plip

# ITU-R BT.601 luma, as PIL's convert("L").
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


@dataclass(frozen=True, kw_only=True)
class ColorizationConfig(TaskConfig):
    """``fpn_dim``: channels per FPN level (None: the first stage's, 256 for RN50); ``target``: regress the
    normalised colour image ("normalized") or RGB in [0, 1] ("unit"); ``loss``: "mse" (mean squared error per
    pixel) or "l2" (Euclidean distance per image, averaged over the batch, Eq. 1 literally)."""

    weight: float = 0.02
    fpn_dim: int | None = None
    target: str = "normalized"
    loss: str = "mse"

    def __post_init__(self) -> None:
        if self.target not in ("normalized", "unit"):
            raise ValueError(f"colorization target must be 'normalized' or 'unit', got {self.target!r}")
        if self.loss not in ("mse", "l2"):
            raise ValueError(f"colorization loss must be 'mse' or 'l2', got {self.loss!r}")


class MultimodalSE(nn.Module):
    """Squeeze-excitation whose gate sees the text: avg-pool, concat text, FC-ReLU-FC-sigmoid, scale channels."""

    def __init__(self, channels: int, text_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels + text_dim, channels)
        self.fc2 = nn.Linear(channels, channels)
        nn.init.kaiming_normal_(self.fc1.weight, mode="fan_out")
        nn.init.kaiming_normal_(self.fc2.weight, mode="fan_out")

    def forward(self, x: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """``x [B, C, H, W]``, ``text [B, D]`` -> ``[B, C, H, W]``."""
        gate = torch.cat([x.mean(dim=(2, 3)), text.to(x.dtype)], dim=-1)
        gate = torch.sigmoid(self.fc2(F.relu(self.fc1(gate))))
        return x * gate[:, :, None, None]


class ColorizationDecoder(nn.Module):
    """Stage maps (strides 4/8/16/32) + text embedding -> ``[B, 3, H, W]``."""

    def __init__(self, stage_channels: tuple[int, int, int, int], text_dim: int, fpn_dim: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, fpn_dim, kernel_size=1) for c in stage_channels)
        self.se1 = MultimodalSE(4 * fpn_dim, text_dim)
        self.deconv1 = nn.ConvTranspose2d(4 * fpn_dim, fpn_dim, 3, stride=2, padding=1, output_padding=1)
        self.se2 = MultimodalSE(fpn_dim, text_dim)
        self.deconv2 = nn.ConvTranspose2d(fpn_dim, 3, 3, stride=2, padding=1, output_padding=1)

    def forward(self, maps: tuple[torch.Tensor, ...], text: torch.Tensor) -> torch.Tensor:
        c1, c2, c3, c4 = (lat(m) for lat, m in zip(self.lateral, maps, strict=True))
        up = lambda t, s: F.interpolate(t, scale_factor=s, mode="bilinear", align_corners=False)  # noqa: E731
        y3 = up(c4, 2) + c3
        y2 = up(y3, 2) + c2
        y1 = up(y2, 2) + c1
        x = torch.cat([y1, up(y2, 2), up(y3, 4), up(c4, 8)], dim=1)  # [B, 4*fpn, H/4, W/4]
        x = self.deconv1(self.se1(x, text))  # [B, fpn, H/2, W/2]
        return self.deconv2(self.se2(x, text))  # [B, 3, H, W]


def to_gray(images01: torch.Tensor) -> torch.Tensor:
    """``[B, 3, H, W]`` RGB in [0, 1] -> 3-channel replica of its luma (the encoder stays 3-channel)."""
    w = torch.tensor(GRAY_WEIGHTS, dtype=images01.dtype, device=images01.device).view(1, 3, 1, 1)
    return (images01 * w).sum(dim=1, keepdim=True).expand(-1, 3, -1, -1)


@register_task
class Colorization(PretextTask):
    """Encode the gray image, decode colours guided by the caption embedding, regress the colour image."""

    name = "colorization"
    requires = frozenset({"images", "input_ids", "attention_mask"})
    Config = ColorizationConfig

    def __init__(self, cfg: ColorizationConfig, model: Plip) -> None:
        super().__init__(cfg, model)
        fpn_dim = cfg.fpn_dim or model.stage_channels[0]
        self.decoder = ColorizationDecoder(model.stage_channels, model.embed_dim, fpn_dim)

    def forward(self, model: Plip, batch: Batch, feats: Features, progress: float) -> TaskOutput:
        cfg: ColorizationConfig = self.cfg
        images = batch.images
        mean, std = model.pixel_mean, model.pixel_std
        rgb01 = images.float() / 255.0 if images.dtype == torch.uint8 else images.float() * std + mean
        gray = (to_gray(rgb01) - mean) / std
        pred = self.decoder(model.encode_image(gray).maps, feats.text.embed)
        target = (rgb01 - mean) / std if cfg.target == "normalized" else rgb01
        if cfg.loss == "mse":
            loss = F.mse_loss(pred.float(), target)
        else:
            loss = (pred.float() - target).flatten(1).norm(dim=1).mean()
        return TaskOutput(loss=loss, metrics={"mae": (pred.detach().float() - target).abs().mean()})
