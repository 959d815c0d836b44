"""plip.transforms: PIL bicubic resize to (H, W), uint8 tensors, normalisation, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from plip.transforms import SYNTH_PEDES_MEAN, SYNTH_PEDES_STD, load_rgb, normalize, preprocess, resize, to_uint8_tensor


def _image(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "p.png"
    Image.fromarray(rng.integers(0, 256, (40, 20, 3), dtype=np.uint8)).save(path)
    return path


def test_load_resize_tensor(tmp_path):
    path = _image(tmp_path)
    img = load_rgb(path)
    assert load_rgb(path.read_bytes()).tobytes() == img.tobytes()
    out = resize(img, (256, 128))
    assert out.size == (128, 256)
    assert out.tobytes() == img.resize((128, 256), Image.Resampling.BICUBIC).tobytes()
    t = to_uint8_tensor(out)
    assert t.dtype == torch.uint8 and t.shape == (3, 256, 128)
    assert torch.equal(t.permute(1, 2, 0), torch.from_numpy(np.array(out)))
    assert torch.equal(preprocess(path), t)


def test_normalize_matches_totensor_normalize():
    x = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    m = torch.tensor(SYNTH_PEDES_MEAN).view(3, 1, 1)
    s = torch.tensor(SYNTH_PEDES_STD).view(3, 1, 1)
    torch.testing.assert_close(normalize(x), (x.float() / 255 - m) / s)
    torch.testing.assert_close(normalize(x[0].float() / 255), (x[0].float() / 255 - m) / s)
    assert SYNTH_PEDES_MEAN == (0.357, 0.323, 0.328) and SYNTH_PEDES_STD == (0.252, 0.242, 0.239)


def test_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.jpg"):
        load_rgb(bad)
    with pytest.raises(ValueError, match="resample"):
        resize(Image.new("RGB", (4, 4)), (8, 4), resample="area")
