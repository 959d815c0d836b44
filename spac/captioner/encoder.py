"""The prefix encoder PE of SPAC: a ResNet trunk (plip's ModifiedResNet) with a feature pyramid (FPN).

METHOD.md §1.4 names a ResNet101-FPN; the trunk is shared with plip so there is one ResNet in the project. The
FPN is the classic one (Lin et al. 2017): 1x1 lateral convs, nearest top-down upsampling with addition, a 3x3
smoothing conv per level. Only the level the branches read is returned (``fpn_level``; see its config note).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spac.captioner.config import CaptionerModelConfig


class ResNetFPN(nn.Module):
    """``forward(images [B, 3, H, W] normalised float) -> [B, fpn_dim, H / 2**level, W / 2**level]``."""

    def __init__(self, cfg: CaptionerModelConfig) -> None:
        super().__init__()
        from plip.models.resnet import RESNET_LAYERS, ModifiedResNet

        layers = cfg.layers if cfg.layers is not None else RESNET_LAYERS[cfg.depth]
        self.trunk = ModifiedResNet(layers, width=cfg.width)
        channels = self.trunk.stage_channels
        self.level = cfg.fpn_level
        # Levels above the chosen one are needed for the top-down path; levels below it are never computed.
        used = range(cfg.fpn_level - 2, 4)
        self.lateral = nn.ModuleDict({str(i): nn.Conv2d(channels[i], cfg.fpn_dim, 1) for i in used})
        self.smooth = nn.Conv2d(cfg.fpn_dim, cfg.fpn_dim, 3, padding=1)
        self.out_channels = cfg.fpn_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        stages = self.trunk(images)
        top = self.lateral["3"](stages[3])
        for i in range(2, self.level - 3, -1):  # P5 -> ... -> P_level
            lateral = self.lateral[str(i)](stages[i])
            top = lateral + F.interpolate(top, size=lateral.shape[-2:], mode="nearest")
        return self.smooth(top)
