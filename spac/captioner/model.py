"""SpacCaptioner: prefix encoder + 6 attribute branches + sentence branch + style encoders + shared GPT-2.

Equations (8)-(13) of METHOD.md §1.4. ``forward`` computes the teacher-forced loss
``L = CE_caption + attribute_weight * sum_k CE_attribute_k`` (the paper's ``-L_c - 0.15 L_a`` with
log-likelihoods averaged over target tokens, so the weight does not depend on caption length): each attribute
sequence k is ``[e_k (3 tokens), a^k, EOS]``, each caption ``[SE_style(concat e_1..e_7) (23 tokens), y, EOS]``
where the style encoder is the one of the caption's corpus ("selected in turn").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from spac.captioner.branches import StyleEncoder, attribute_branch, sentence_branch
from spac.captioner.config import CaptionerModelConfig
from spac.captioner.encoder import ResNetFPN
from spac.records import SLOTS


@dataclass
class Prefixes:
    attributes: torch.Tensor  # [B, 6, attribute_tokens, d]
    sentence: torch.Tensor  # [B, sentence_tokens, d]

    def union(self) -> torch.Tensor:
        """concat[e_1..e_n] of equation (9): ``[B, 6 * 3 + 5, d]``."""
        return torch.cat([self.attributes.flatten(1, 2), self.sentence], dim=1)


@dataclass
class CaptionerLosses:
    total: torch.Tensor
    caption: torch.Tensor
    attribute: torch.Tensor  # sum over the six branches
    per_slot: dict[str, torch.Tensor]


def build_decoder(cfg: CaptionerModelConfig, vocab_size: int | None = None, eos_token_id: int | None = None):
    """GPT-2 from ``decoder.name``: ``"config"`` builds a random one of the configured size."""
    from transformers import GPT2Config, GPT2LMHeadModel

    dc = cfg.decoder
    if dc.name == "config":
        if vocab_size is None or eos_token_id is None:
            raise ValueError("a config-built decoder needs the tokenizer's vocab_size and eos_token_id")
        config = GPT2Config(vocab_size=vocab_size, n_embd=dc.n_embd, n_layer=dc.n_layer, n_head=dc.n_head,
                            n_positions=dc.n_positions, bos_token_id=eos_token_id, eos_token_id=eos_token_id)
        return GPT2LMHeadModel(config)
    decoder = GPT2LMHeadModel.from_pretrained(dc.name)
    if vocab_size is not None and vocab_size > decoder.config.vocab_size:
        decoder.resize_token_embeddings(vocab_size)
    return decoder


class SpacCaptioner(nn.Module):
    """The SPAC captioner. ``decoder`` is a ``GPT2LMHeadModel`` (its width is the prefix dimension)."""

    def __init__(self, cfg: CaptionerModelConfig, decoder: nn.Module) -> None:
        super().__init__()
        self.cfg = cfg
        self.decoder = decoder
        d = decoder.config.n_embd
        self.encoder = ResNetFPN(cfg)
        c = self.encoder.out_channels
        kw = {"dropout": cfg.dropout, "slope": cfg.leaky_slope}
        self.attribute_branches = nn.ModuleList(
            [attribute_branch(c, d, tokens=cfg.attribute_tokens, pool=cfg.attribute_pool, **kw) for _ in SLOTS])
        self.sentence_branch = sentence_branch(c, d, tokens=cfg.sentence_tokens, **kw)
        self.style_encoders = nn.ModuleList([StyleEncoder(d) for _ in cfg.styles])
        self.register_buffer("mean", torch.tensor(cfg.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std).view(1, 3, 1, 1), persistent=False)

    @property
    def styles(self) -> tuple[str, ...]:
        return self.cfg.styles

    def encode(self, images: torch.Tensor) -> Prefixes:
        """Equation (8). ``images``: uint8 ``[B, 3, H, W]`` (normalised here) or already normalised float."""
        if images.dtype == torch.uint8:
            images = (images.float() / 255.0 - self.mean) / self.std
        fmap = self.encoder(images)
        attributes = torch.stack([branch(fmap) for branch in self.attribute_branches], dim=1)
        return Prefixes(attributes=attributes, sentence=self.sentence_branch(fmap))

    def caption_prefix(self, prefixes: Prefixes, style: torch.Tensor | int) -> torch.Tensor:
        """Equation (9) for one style per image: ``style`` is an int or a ``[B]`` tensor of style indices."""
        union = prefixes.union()
        if isinstance(style, int):
            return self.style_encoders[style](union)
        out = torch.zeros_like(union)
        for k, encoder in enumerate(self.style_encoders):
            rows = (style == k).nonzero(as_tuple=True)[0]
            if rows.numel():
                out = out.index_copy(0, rows, encoder(union[rows]))
        return out

    def sequence_nll(self, prefix: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-token negative log-likelihood ``[N, L]`` (0 at padding) of ``ids`` after ``prefix`` [N, P, d]."""
        embeds = torch.cat([prefix, self.decoder.get_input_embeddings()(ids)], dim=1)
        ones = torch.ones(prefix.shape[:2], dtype=mask.dtype, device=mask.device)
        logits = self.decoder(inputs_embeds=embeds, attention_mask=torch.cat([ones, mask], dim=1)).logits
        p = prefix.shape[1]
        logits = logits[:, p - 1 : p - 1 + ids.shape[1]].float()  # position t predicts target t
        nll = F.cross_entropy(logits.transpose(1, 2), ids, reduction="none")
        return nll * mask

    def forward(self, images: torch.Tensor, attribute_ids: torch.Tensor, attribute_mask: torch.Tensor,
                caption_ids: torch.Tensor, caption_mask: torch.Tensor, styles: torch.Tensor,
                attribute_weight: float = 0.15) -> CaptionerLosses:
        """Teacher-forced loss, equations (10)-(13).

        Args:
            images: ``[B, 3, H, W]``; attribute_ids/mask: ``[B, 6, La]`` (targets end with EOS, mask 0 = pad);
            caption_ids/mask: ``[B, Lc]``; styles: ``[B]`` style index of each caption.
        """
        prefixes = self.encode(images)
        b, n_slots, t, d = prefixes.attributes.shape
        nll_a = self.sequence_nll(prefixes.attributes.reshape(b * n_slots, t, d),
                                  attribute_ids.flatten(0, 1), attribute_mask.flatten(0, 1))
        nll_a = nll_a.view(b, n_slots, -1).sum(dim=(0, 2))
        per_slot_loss = nll_a / attribute_mask.sum(dim=(0, 2)).clamp(min=1)
        nll_c = self.sequence_nll(self.caption_prefix(prefixes, styles), caption_ids, caption_mask)
        caption = nll_c.sum() / caption_mask.sum().clamp(min=1)
        attribute = per_slot_loss.sum()
        return CaptionerLosses(
            total=caption + attribute_weight * attribute,
            caption=caption,
            attribute=attribute,
            per_slot={slot: per_slot_loss[i] for i, slot in enumerate(SLOTS)},
        )
