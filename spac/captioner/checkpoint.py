"""Save and load an exported captioner: ``config.json``, ``model.safetensors``, ``decoder/``, tokenizer files.

The folder is self-contained (the decoder's GPT-2 config is stored, so loading needs no hub); its revision is
the first 12 hex digits of the weights' sha256, which ``spac caption`` writes into every output line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from spac.captioner.config import CaptionerModelConfig, DecoderConfig
from spac.captioner.model import SpacCaptioner
from spac.config import to_dict

WEIGHTS = "model.safetensors"


class CheckpointError(FileNotFoundError):
    """A checkpoint folder that is missing or incomplete; the message names the file."""


@dataclass
class LoadedCaptioner:
    model: SpacCaptioner
    tokenizer: Any
    revision: str
    extra: dict


def save_captioner(model: SpacCaptioner, tokenizer, out_dir: str | Path, extra: dict | None = None) -> Path:
    from safetensors.torch import save_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.decoder.config.save_pretrained(out / "decoder")
    tokenizer.save_pretrained(str(out))
    tmp = out / (WEIGHTS + ".tmp")
    save_model(model, str(tmp))  # handles GPT-2's tied input/output embeddings
    tmp.replace(out / WEIGHTS)
    meta = {"model": to_dict(model.cfg), "revision": file_revision(out / WEIGHTS), "extra": extra or {}}
    (out / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return out


def file_revision(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def model_config_from_dict(data: dict) -> CaptionerModelConfig:
    data = dict(data)
    data["decoder"] = DecoderConfig(**data.get("decoder", {}))
    for key in ("layers", "styles", "image_size", "mean", "std", "attribute_pool"):
        if data.get(key) is not None:
            data[key] = tuple(data[key])
    return CaptionerModelConfig(**data)


def load_captioner(path: str | Path, device: str | torch.device = "cpu") -> LoadedCaptioner:
    from safetensors.torch import load_model
    from transformers import GPT2Config, GPT2LMHeadModel

    from spac.captioner.tokenizer import load_tokenizer

    path = Path(path)
    for name in ("config.json", WEIGHTS, "decoder/config.json"):
        if not (path / name).is_file():
            raise CheckpointError(f"captioner checkpoint {path}: {name} is missing")
    meta = json.loads((path / "config.json").read_text())
    cfg = model_config_from_dict(meta["model"])
    model = SpacCaptioner(cfg, GPT2LMHeadModel(GPT2Config.from_pretrained(str(path / "decoder"))))
    load_model(model, str(path / WEIGHTS), device=str(device))
    model.to(device).eval()
    return LoadedCaptioner(model=model, tokenizer=load_tokenizer(path), revision=meta["revision"],
                           extra=meta.get("extra", {}))
