"""TIC: gray input, FPN + multimodal-SE decoder shapes, and the loss against a direct re-computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from plip_model_fixtures import make_batch, make_tokenizer

from plip.models import PlipConfig, build_model
from plip.tasks import Features
from plip.tasks.colorization import Colorization, ColorizationConfig, MultimodalSE, to_gray


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.manual_seed(0)
    tok = make_tokenizer(tmp_path_factory.mktemp("tok"))
    model = build_model(PlipConfig.tiny(), tok).eval()
    return model, make_batch(tok, [0, 0, 1, 2])


def test_gray_is_the_luma_replicated_like_pil():
    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    gray = to_gray(torch.from_numpy(rgb).permute(2, 0, 1)[None].double() / 255)
    assert gray.shape == (1, 3, 6, 5) and torch.equal(gray[:, 0], gray[:, 2])
    pil = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float64) / 255
    assert np.abs(gray[0, 0].numpy() - pil).max() <= 1 / 255 + 1e-9


def test_multimodal_se_is_avgpool_concat_fc_relu_fc_sigmoid():
    torch.manual_seed(0)
    se = MultimodalSE(6, 4)
    x, t = torch.randn(2, 6, 3, 5), torch.randn(2, 4)
    gate = torch.sigmoid(se.fc2(torch.relu(se.fc1(torch.cat([x.mean((2, 3)), t], 1)))))
    torch.testing.assert_close(se(x, t), x * gate[:, :, None, None])


@pytest.mark.parametrize("loss", ["mse", "l2"])
def test_loss_matches_direct_computation(setup, loss):
    model, batch = setup
    task = Colorization(ColorizationConfig(loss=loss), model).eval()
    assert task.decoder.se1.fc2.out_features == 4 * model.stage_channels[0]
    feats = Features(model, batch)
    with torch.no_grad():
        out = task(model, batch, feats, 0.5)
        rgb01 = batch.images.double() / 255
        gray01 = (0.299 * rgb01[:, 0] + 0.587 * rgb01[:, 1] + 0.114 * rgb01[:, 2])[:, None].repeat(1, 3, 1, 1)
        mean, std = torch.tensor(model.config.mean).view(1, 3, 1, 1), torch.tensor(model.config.std).view(1, 3, 1, 1)
        pred = task.decoder(model.encode_image(((gray01 - mean) / std).float()).maps, feats.text.embed)
        target = ((rgb01 - mean) / std).float()
    assert pred.shape == batch.images.shape
    diff = (pred - target).double()
    expected = (diff**2).mean() if loss == "mse" else diff.flatten(1).pow(2).sum(1).sqrt().mean()
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-4)


def test_unit_target_and_gradients(setup):
    model, batch = setup
    task = Colorization(ColorizationConfig(target="unit"), model)
    out = task(model, batch, Features(model, batch), 0.0)
    out.loss.backward()
    assert all(p.grad is not None for p in task.parameters())
    assert any(p.grad is not None for p in model.visual.parameters())
    model.zero_grad(set_to_none=True)
    with pytest.raises(ValueError, match="target"):
        ColorizationConfig(target="lab")
