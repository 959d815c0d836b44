"""Text encoder: any BERT-family transformers model, its global poolings and the partial-freezing policy.

METHOD.md §2.2: BERT-base-uncased, max length 64; global embedding = masked mean of the last hidden states
(paper) or the pooler output (released code); the released code trains only ``layer.8``-``layer.11`` and the
pooler. Here "last k layers" generalises that to other depths and families.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel


def build_text_model(name_or_path: str | None, config: dict[str, Any] | None) -> PreTrainedModel:
    """From a config dict (random init, offline) or from a local folder / Hub id with pretrained weights."""
    if config is not None:
        cfg = dict(config)
        model_type = cfg.pop("model_type", "bert")
        # transformers writes these into to_dict(); they are not constructor arguments.
        for key in ("transformers_version", "architectures", "_name_or_path"):
            cfg.pop(key, None)
        return AutoModel.from_config(AutoConfig.for_model(model_type, **cfg))
    if name_or_path is None:
        raise ValueError("need a text model path/id or a config")
    return AutoModel.from_pretrained(str(name_or_path))


def transformer_layers(model: nn.Module) -> nn.ModuleList:
    """The stack of transformer layers (``encoder.layer`` for BERT/RoBERTa, ``transformer.layer`` for DistilBERT)."""
    best: nn.ModuleList | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and name.rsplit(".", 1)[-1] in ("layer", "layers"):
            if best is None or len(module) > len(best):
                best = module
    if best is None:
        raise ValueError(f"cannot find the transformer layer stack of {type(model).__name__}")
    return best


class TextEncoder(nn.Module):
    """Wraps a transformers encoder; returns token states and a global embedding.

    Args:
        model: the transformers model (attribute ``model``; the released ``encoder.*`` keys map onto it).
        pool: ``"mean"`` (masked), ``"mean_all"`` (over all positions) or ``"pooler"``.
        trainable_layers: train only the last k transformer layers (+ pooler if used; embeddings frozen);
            None trains all.
    """

    def __init__(self, model: PreTrainedModel, pool: str = "mean", trainable_layers: int | None = None) -> None:
        super().__init__()
        self.model = model
        self.pool = pool
        self.hidden_size: int = model.config.hidden_size
        self.vocab_size: int = model.config.vocab_size
        pooler = getattr(model, "pooler", None)
        if pool == "pooler" and pooler is None:
            raise ValueError(f"{type(model).__name__} has no pooler; use text_pool='mean'")
        if trainable_layers is not None:
            for p in model.parameters():
                p.requires_grad_(False)
            layers = transformer_layers(model)
            if trainable_layers < 0:
                raise ValueError(f"text_trainable_layers must be >= 0 or None, got {trainable_layers}")
            # k beyond the depth trains every layer (the embeddings stay frozen).
            for layer in list(layers)[max(len(layers) - trainable_layers, 0) :]:
                for p in layer.parameters():
                    p.requires_grad_(True)
        # A pooler that no loss reads would get no gradient (and break DDP), so it trains only when used.
        if pooler is not None:
            for p in pooler.parameters():
                p.requires_grad_(pool == "pooler")

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``input_ids, attention_mask [B, L] -> (tokens [B, L, D], embed [B, D])``."""
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        tokens = out.last_hidden_state
        if self.pool == "pooler":
            embed = out.pooler_output
        elif self.pool == "mean_all":
            embed = tokens.mean(dim=1)
        else:
            m = attention_mask.unsqueeze(-1).to(tokens.dtype)
            embed = (tokens * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
        return tokens, embed
