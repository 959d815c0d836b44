"""Model checkpoints: our ``from_pretrained``-style folder, and import of the released PLIP checkpoint.

Our folder holds ``config.json`` (the :class:`PlipConfig`, with the text model's full config inlined so loading
needs no network), ``model.safetensors`` and the tokenizer files. The released ``PLIP_RN50.pth.tar`` is a torch
pickle with ``ImgEncoder_state_dict`` (modified RN50 + attention pool) and ``TxtEncoder_state_dict`` (BERT under
``encoder.``, pooler used), METHOD.md §6.1; older transformers saved ``embeddings.position_ids``, which we drop.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig

from plip.models import Plip, PlipConfig, build_model
from plip.tokenizer import load_tokenizer

FORMAT = "plip-checkpoint/1"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
# Buffers that some transformers versions keep in state dicts and others do not (issue #15 of the official repo).
_OPTIONAL_TEXT_KEYS = re.compile(r"(^|\.)embeddings\.(position_ids|token_type_ids)$")


def save_pretrained(model: Plip, out_dir: str | Path, tokenizer: Any = None) -> Path:
    """Write ``model`` (and its tokenizer, or ``tokenizer``) to ``out_dir`` in our format; returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text_config = model.text.model.config.to_diff_dict()
    text_config.pop("transformers_version", None)
    cfg = model.config.replace(text_model=None, text_config=text_config)
    meta = {"format": FORMAT, "plip": cfg.to_dict()}
    (out / CONFIG_NAME).write_text(json.dumps(meta, indent=2) + "\n")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS_NAME), metadata={"format": FORMAT})
    tok = tokenizer if tokenizer is not None else model.tokenizer
    if tok is not None:
        tok.save_pretrained(str(out))
    return out


def load_pretrained(model_dir: str | Path, map_location: str | torch.device = "cpu") -> Plip:
    """Load a folder written by :func:`save_pretrained` (config, weights and tokenizer if present)."""
    src = Path(model_dir)
    config_path, weights_path = src / CONFIG_NAME, src / WEIGHTS_NAME
    for path in (config_path, weights_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: missing; is {src} a folder written by plip save_pretrained/plip-convert?"
            )
    meta = json.loads(config_path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{config_path}: format {meta.get('format')!r} is not {FORMAT!r}")
    cfg = PlipConfig.from_dict(meta["plip"])
    has_tokenizer = any((src / name).is_file() for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"))
    tokenizer = load_tokenizer(src) if has_tokenizer else None
    model = build_model(cfg, tokenizer)
    model.load_state_dict(load_file(str(weights_path)), strict=True)
    return model.to(map_location)


def _strip_prefix(state: Mapping[str, torch.Tensor], prefix: str = "module.") -> dict[str, torch.Tensor]:
    return {k[len(prefix) :] if k.startswith(prefix) else k: v for k, v in state.items()}


def released_config(
    image_state: Mapping[str, torch.Tensor], text_config: dict[str, Any], **overrides: Any
) -> PlipConfig:
    """Infer the released image encoder's layout (blocks per stage, width, output dim) from its state dict."""
    layers = []
    for stage in range(1, 5):
        blocks = {int(m.group(1)) for k in image_state if (m := re.match(rf"layer{stage}\.(\d+)\.", k))}
        layers.append(max(blocks) + 1 if blocks else 0)
    if min(layers) == 0 or "conv1.weight" not in image_state:
        raise ValueError(f"ImgEncoder_state_dict does not look like a modified ResNet (blocks per stage {layers})")
    if "attnpool.c_proj.weight" not in image_state:
        raise ValueError(
            "ImgEncoder_state_dict has no attention pool (attnpool.*); only the released variant is supported"
        )
    cfg = {
        "layers": tuple(layers),
        "width": image_state["conv1.weight"].shape[0] * 2,
        "embed_dim": image_state["attnpool.c_proj.weight"].shape[0],
        "text_model": None,
        "text_config": text_config,
        **overrides,
    }
    return PlipConfig.released(**cfg)


def convert_released_state(
    image_state: Mapping[str, torch.Tensor], text_state: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Rename the released keys to ours: ``attnpool.*`` -> ``visual_pool.*``, trunk -> ``visual.*``,
    ``encoder.*`` -> ``text.model.*``; ``module.`` prefixes and optional position/token-type id buffers dropped."""
    out: dict[str, torch.Tensor] = {}
    for k, v in _strip_prefix(image_state).items():
        out[("visual_pool." + k[len("attnpool.") :]) if k.startswith("attnpool.") else "visual." + k] = v
    for k, v in _strip_prefix(text_state).items():
        if _OPTIONAL_TEXT_KEYS.search(k) or k.startswith("probe_linearing."):
            continue  # buffers of other transformers versions; an unused linear of the first code upload
        if not k.startswith("encoder."):
            raise ValueError(f"TxtEncoder_state_dict key {k!r} is not under 'encoder.' (the released Textual_encoder)")
        out["text.model." + k[len("encoder.") :]] = v
    return out


def load_released(path: str | Path, text_model: str | Path, allow_pickle: bool = False, **overrides: Any) -> Plip:
    """Import the released PLIP checkpoint into :class:`Plip` (attention pool + BERT pooler variant).

    Args:
        path: the ``.pth.tar`` file with ``ImgEncoder_state_dict`` and ``TxtEncoder_state_dict``.
        text_model: local folder or Hub id giving the text model's config and tokenizer (weights come from the
            checkpoint), e.g. ``bert-base-uncased``.
        allow_pickle: load with ``weights_only=False`` (only for files you trust) if the safe loader refuses.
        overrides: PlipConfig fields (e.g. ``attn_heads``, ``image_size``).
    """
    src = Path(path)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such checkpoint file")
    try:
        ckpt = torch.load(src, map_location="cpu", weights_only=not allow_pickle)
    except Exception as e:  # the safe unpickler raises several types
        raise ValueError(
            f"{src}: cannot load as a torch checkpoint ({e}); pass allow_pickle only if you trust it"
        ) from e
    if isinstance(ckpt, Mapping) and "state_dict" in ckpt and "ImgEncoder_state_dict" not in ckpt:
        ckpt = ckpt["state_dict"]
    missing = [
        k for k in ("ImgEncoder_state_dict", "TxtEncoder_state_dict") if not isinstance(ckpt, Mapping) or k not in ckpt
    ]
    if missing:
        found = sorted(ckpt)[:10] if isinstance(ckpt, Mapping) else type(ckpt).__name__
        raise ValueError(f"{src}: missing {missing}; found {found}")
    image_state, text_state = _strip_prefix(ckpt["ImgEncoder_state_dict"]), ckpt["TxtEncoder_state_dict"]
    text_config = AutoConfig.from_pretrained(str(text_model)).to_diff_dict()
    text_config.pop("transformers_version", None)
    cfg = released_config(image_state, text_config, **overrides)
    grid = image_state["attnpool.positional_embedding"].shape[0] - 1
    if grid != (cfg.image_size[0] // 32) * (cfg.image_size[1] // 32):
        raise ValueError(f"{src}: attention pool has {grid} positions, which does not fit image_size {cfg.image_size}")
    model = build_model(cfg, load_tokenizer(text_model))
    try:
        result = model.load_state_dict(convert_released_state(image_state, text_state), strict=False)
    except RuntimeError as e:  # shape mismatches
        raise ValueError(f"{src}: checkpoint does not match the model built from {text_model}: {e}") from e
    missing_keys = [k for k in result.missing_keys if not _OPTIONAL_TEXT_KEYS.search(k)]
    if missing_keys or result.unexpected_keys:
        raise ValueError(
            f"{src}: checkpoint does not match the model built from {text_model}: "
            f"missing {missing_keys[:8]} ({len(missing_keys)}), unexpected {result.unexpected_keys[:8]} "
            f"({len(result.unexpected_keys)})"
        )
    return model
