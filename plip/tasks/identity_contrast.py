"""IVLC: identity-based vision-language contrast with the CMPM loss (METHOD.md §3.3).

Every image-text pair of the (global) batch that shares an identity is a positive, in both directions. Two forms:
``cosine`` (paper Eq. 4-6: cosine logits, q = y / sum(y)) and ``projection`` (released CMPM code: logits
V . T/|T|, q = y / |y|_2). Features from all processes are gathered with the local slice differentiable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from plip.batch import Batch
from plip.distributed import all_gather_nograd, all_gather_with_grad

from .base import Features, PretextTask, TaskConfig, TaskOutput, register_task

if TYPE_CHECKING:
    from plip.models import Plip

FORMS = ("cosine", "projection")


@dataclass(frozen=True, kw_only=True)
class IdentityContrastConfig(TaskConfig):
    """``form``: "cosine" (paper) or "projection" (released code); ``gather``: contrast over all processes'
    samples; ``full_grad``: back-propagate through the gather to every rank's slice (see plip.distributed)."""

    weight: float = 1.0
    form: str = "cosine"
    eps: float = 1e-8
    gather: bool = True
    full_grad: bool = False

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"identity_contrast form must be one of {FORMS}, got {self.form!r}")


def _kl_to_targets(logits: torch.Tensor, q: torch.Tensor, eps: float) -> torch.Tensor:
    """mean_i sum_j p_ij (log p_ij - log(q_ij + eps)) with p = softmax over j."""
    log_p = F.log_softmax(logits, dim=1)
    return (log_p.exp() * (log_p - torch.log(q + eps))).sum(dim=1).mean()


def cmpm_loss(
    image: torch.Tensor, text: torch.Tensor, ids: torch.Tensor, form: str = "cosine", eps: float = 1e-8
) -> torch.Tensor:
    """CMPM loss L_v2l + L_l2v for ``image``/``text`` ``[N, D]`` and identities ``ids`` ``[N]``."""
    y = (ids.view(-1, 1) == ids.view(1, -1)).to(image.dtype)
    image_n, text_n = F.normalize(image, dim=1), F.normalize(text, dim=1)
    if form == "cosine":
        sim = image_n @ text_n.t()
        q = y / y.sum(dim=1, keepdim=True)
        return _kl_to_targets(sim, q, eps) + _kl_to_targets(sim.t(), q, eps)
    if form == "projection":
        q = y / y.norm(dim=1, keepdim=True)
        return _kl_to_targets(image @ text_n.t(), q, eps) + _kl_to_targets(text @ image_n.t(), q, eps)
    raise ValueError(f"unknown CMPM form {form!r}; choose from {FORMS}")


@register_task
class IdentityContrast(PretextTask):
    """CMPM between the global image and text embeddings of the clean batch."""

    name = "identity_contrast"
    requires = frozenset({"images", "input_ids", "attention_mask", "person_ids"})
    Config = IdentityContrastConfig

    def forward(self, model: Plip, batch: Batch, feats: Features, progress: float) -> TaskOutput:
        cfg: IdentityContrastConfig = self.cfg
        image, text, ids = feats.image.embed, feats.text.embed, batch.person_ids
        if cfg.gather:
            image = all_gather_with_grad(image, full_grad=cfg.full_grad)
            text = all_gather_with_grad(text, full_grad=cfg.full_grad)
            ids = all_gather_nograd(ids)
        loss = cmpm_loss(image.float(), text.float(), ids, form=cfg.form, eps=cfg.eps)
        with torch.no_grad():
            sim = F.normalize(image.float(), dim=1) @ F.normalize(text.float(), dim=1).t()
            pos = ids.view(-1, 1) == ids.view(1, -1)
            metrics = {
                "pos_sim": sim[pos].mean(),
                "neg_sim": sim[~pos].mean() if (~pos).any() else sim.new_zeros(()),
                "i2t_top1": pos.gather(1, sim.argmax(dim=1, keepdim=True)).float().mean(),
            }
        return TaskOutput(loss=loss, metrics=metrics)
