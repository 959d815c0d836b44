"""Image preprocessing shared by training, evaluation, embedding and the captioner, without torchvision.

PLIP's released inference code resizes with PIL bicubic to 256x128, scales to [0, 1] and normalises with the
SYNTH-PEDES statistics (METHOD.md §2.1, repo ``zs_infer.py``); these helpers reproduce exactly that.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

SYNTH_PEDES_MEAN = (0.357, 0.323, 0.328)
SYNTH_PEDES_STD = (0.252, 0.242, 0.239)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def load_rgb(src: bytes | str | Path) -> Image.Image:
    """Decode image bytes or a file into an RGB PIL image.

    Raises:
        ValueError: naming the file (or "bytes") when the data is not a readable image.
    """
    name = "<bytes>" if isinstance(src, bytes | bytearray) else str(src)
    try:
        with Image.open(io.BytesIO(src) if isinstance(src, bytes | bytearray) else src) as img:
            img.load()  # decoded now: leaving the block closes the file, not the pixels
            return img if img.mode == "RGB" else img.convert("RGB")  # no RGB -> RGB copy (the loader's hot path)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError(f"{name}: not a readable image ({e})") from e


def resize(img: Image.Image, size: tuple[int, int], resample: str = "bicubic") -> Image.Image:
    """Resize to ``size`` given as (H, W) (note: PIL takes (W, H)); bicubic as in the released PLIP code."""
    if resample not in _RESAMPLE:
        raise ValueError(f"unknown resample {resample!r}; choose from {sorted(_RESAMPLE)}")
    h, w = size
    if img.size == (w, h):  # PIL would return a copy of the same pixels
        return img
    return img.resize((w, h), _RESAMPLE[resample])


def to_uint8_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> uint8 ``[3, H, W]``."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def normalize(
    images: torch.Tensor, mean: Sequence[float] = SYNTH_PEDES_MEAN, std: Sequence[float] = SYNTH_PEDES_STD
) -> torch.Tensor:
    """Scale to [0, 1] (uint8 input is divided by 255; float input is taken as already in [0, 1]) and normalise.

    Args:
        images: ``[3, H, W]`` or ``[B, 3, H, W]``, uint8 or float.
    Returns:
        float32 tensor of the same shape (same dtype if the input is a floating type).
    """
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images
    m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return (x - m) / s


def preprocess(
    src: bytes | str | Path | Image.Image, size: tuple[int, int] = (256, 128), resample: str = "bicubic"
) -> torch.Tensor:
    """Load (if needed), resize and convert one image: the uint8 ``[3, H, W]`` tensor models take."""
    img = src if isinstance(src, Image.Image) else load_rgb(src)
    return to_uint8_tensor(resize(img.convert("RGB"), size, resample))
