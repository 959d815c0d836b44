"""Objective: weighted sum, gradients reach exactly the trainable parameters, speed, and that tasks learn."""

from __future__ import annotations

import dataclasses
import time

import pytest
import torch
from plip_model_fixtures import make_batch, make_tokenizer

from plip.batch import Batch
from plip.models import PlipConfig, build_model
from plip.objective import Objective
from plip.tasks import TASKS, ColorizationConfig, Features, IdentityContrastConfig, TaskConfig

PIDS = [0, 0, 1, 1, 2, 2, 3, 3]


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return make_tokenizer(tmp_path_factory.mktemp("tok"))


def tiny_model(tok, **kw):
    torch.manual_seed(0)
    return build_model(PlipConfig.tiny(**kw), tok)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_each_registered_task_alone(tok, name):
    cls = TASKS[name]
    assert cls.name == name and issubclass(cls.Config, TaskConfig)
    assert cls.requires <= {f.name for f in dataclasses.fields(Batch)}
    model = tiny_model(tok)
    task = cls(cls.Config(), model)
    batch = make_batch(tok, PIDS)
    out = task(model, batch, Features(model, batch), 0.5)
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    out.loss.backward()
    assert all(p.grad is not None for p in task.parameters())
    assert all(not v.requires_grad and v.dim() == 0 for v in out.metrics.values())


def test_defaults_weighted_sum_and_config_forms(tok):
    model = tiny_model(tok)
    obj = Objective(model)
    assert set(obj.tasks) == {"identity_contrast", "colorization", "attribute_prediction"}
    assert {n: t.cfg.weight for n, t in obj.tasks.items()} == {
        "identity_contrast": 1.0,
        "colorization": 0.02,
        "attribute_prediction": 0.1,
    }
    losses = obj(make_batch(tok, PIDS), progress=0.5)
    expected = sum(obj.tasks[n].cfg.weight * v for n, v in losses.per_task.items())
    torch.testing.assert_close(losses.total, expected)
    assert "attribute_prediction/mask_ratio" in losses.metrics and "identity_contrast/pos_sim" in losses.metrics
    two = Objective(model, {"identity_contrast": {"form": "projection"}, "colorization": ColorizationConfig(weight=0)})
    assert set(two.tasks) == {"identity_contrast"} and two.tasks["identity_contrast"].cfg.form == "projection"
    with pytest.raises(KeyError, match="unknown task"):
        Objective(model, {"captioning": None})
    with pytest.raises(TypeError, match="IdentityContrastConfig"):
        TASKS["identity_contrast"](ColorizationConfig(), model)
    assert isinstance(
        Objective(model, {"identity_contrast": None}).tasks["identity_contrast"].cfg, IdentityContrastConfig
    )


@pytest.mark.parametrize("pools", [("max", "mean"), ("attention", "pooler")])
def test_gradients_reach_every_trainable_parameter_and_no_frozen_one(tok, pools):
    text_config = {**PlipConfig.tiny().text_config, "num_hidden_layers": 4}
    model = tiny_model(tok, image_pool=pools[0], text_pool=pools[1], text_config=text_config, text_trainable_layers=2)
    # CLIP's zero-init of every residual bn3 blocks the gradient of the layers before it at step 0 only.
    with torch.no_grad():
        for name, p in model.visual.named_parameters():
            if name.endswith("bn3.weight"):
                p.fill_(0.5)
    obj = Objective(model)
    obj(make_batch(tok, PIDS), progress=0.5).total.backward()
    trainable = {n: p for n, p in obj.named_parameters() if p.requires_grad}
    frozen = {n: p for n, p in obj.named_parameters() if not p.requires_grad}
    assert any("text.model.embeddings" in n for n in frozen) and any("layer.1." in n for n in frozen)
    assert ("model.text.model.pooler.dense.weight" in trainable) == (pools[1] == "pooler")
    missing = [n for n, p in trainable.items() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    zero = [n for n, p in trainable.items() if p.grad.abs().sum() == 0]
    assert not zero
    assert all(p.grad is None for p in frozen.values())


def test_tiny_step_is_well_under_a_second(tok):
    obj = Objective(tiny_model(tok))
    opt = torch.optim.AdamW([p for p in obj.parameters() if p.requires_grad], lr=1e-3)
    batch = make_batch(tok, PIDS)  # 8 samples at 256x128
    threads = torch.get_num_threads()
    # One thread: with two, OpenMP spin-waits make wall time swing 10x when other test runs share the 2 cores.
    torch.set_num_threads(1)
    try:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            obj(batch, progress=0.5).total.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    # Measured ~0.34 s per step on one core of the project machine; the best of five must stay under a second.
    assert min(times[1:]) < 1.0, times


def test_ten_steps_on_a_fixed_batch_reduce_every_task_loss(tok):
    model = tiny_model(tok, image_size=(128, 64))
    obj = Objective(model)
    opt = torch.optim.AdamW([p for p in obj.parameters() if p.requires_grad], lr=3e-3)
    batch = make_batch(tok, PIDS, image_size=(128, 64))
    history = []
    for _ in range(10):
        torch.manual_seed(123)  # same masks and dropout every step: a truly fixed batch
        losses = obj(batch, progress=0.5)
        losses.total.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        history.append({k: v.item() for k, v in losses.per_task.items()})
    for name in obj.tasks:
        assert history[-1][name] < history[0][name], (name, [h[name] for h in history])


@pytest.mark.slow
def test_real_size_rn50_bert_base_objective_step(tok):
    text_config = {"model_type": "bert", "vocab_size": len(tok)}  # bert-base shape: 12 x 768, 12 heads
    model = build_model(PlipConfig(depth=50, text_model=None, text_config=text_config), tok)
    assert model.stage_channels == (256, 512, 1024, 2048) and model.embed_dim == 768
    obj = Objective(model)
    batch = make_batch(tok, [0, 0, 1, 1], max_length=64)
    losses = obj(batch, progress=0.1)
    losses.total.backward()
    assert torch.isfinite(losses.total)
    assert model.text.model.encoder.layer[11].output.dense.weight.grad is not None
    assert model.text.model.encoder.layer[7].output.dense.weight.grad is None
