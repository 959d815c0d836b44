"""plip.optim: lr_at against hand values, independence from the process count, parameter groups, Adan defaults."""

import math

import pytest
import torch
from torch import nn

from plip.data import DataConfig, TrainLoader
from plip.optim import OptimConfig, build_optimizer, lr_at, param_groups, set_lr
from plip.synthetic import write_synthetic_shards
from plip.tokenizer import train_wordpiece


def test_paper_schedule_points():
    cfg = OptimConfig()  # 70 epochs, warm-up 10, x0.1 at 30 and 50, lr 2e-3
    total = 70 * 100  # 100 steps per epoch
    assert lr_at(0, cfg, total) == pytest.approx(2e-3 / 1000)
    assert lr_at(499, cfg, total) == pytest.approx(2e-3 * 500 / 1000)
    assert lr_at(999, cfg, total) == pytest.approx(2e-3)
    assert lr_at(1000, cfg, total) == pytest.approx(2e-3)
    assert lr_at(2999, cfg, total) == pytest.approx(2e-3)
    assert lr_at(3000, cfg, total) == pytest.approx(2e-4)
    assert lr_at(4999, cfg, total) == pytest.approx(2e-4)
    assert lr_at(5000, cfg, total) == pytest.approx(2e-5)
    assert lr_at(total - 1, cfg, total) == pytest.approx(2e-5)


def test_schedule_does_not_depend_on_the_number_of_processes(tmp_path):
    """Steps per epoch come from the global batch, so 1, 2 or 4 processes see the same lr at every step."""
    root = write_synthetic_shards(tmp_path / "s", identities=16, images_per_identity=4, shards=4)
    tok = train_wordpiece(["a man in a red shirt"], tmp_path / "tok", vocab_size=60)
    cfg = OptimConfig(epochs=3, warmup_epochs=1, decay_epochs=(2,))
    curves = []
    for world in (1, 2, 4):
        loader = TrainLoader(
            DataConfig(shards=str(root), batch_size=8, images_per_identity=2, num_workers=1, image_size=(64, 32)),
            tok,
            rank=world - 1,
            world_size=world,
        )
        total = math.floor(cfg.epochs * loader.steps_per_epoch)
        curves.append([lr_at(s, cfg, total) for s in range(total)])
    assert curves[0] == curves[1] == curves[2] and len(curves[0]) == 24


class _Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.visual = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.text = nn.Module()
        self.text.model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 4))
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def test_param_groups_decay_and_text_lr():
    model = _Toy()
    groups = {g["name"]: g for g in param_groups(model, OptimConfig(weight_decay=0.05, text_lr_scale=0.1))}
    assert set(groups) == {"main/decay", "main/no_decay", "text/decay", "text/no_decay"}
    ids = {name: {id(p) for p in g["params"]} for name, g in groups.items()}
    assert ids["main/decay"] == {id(model.visual[0].weight)}
    assert ids["main/no_decay"] == {id(model.visual[0].bias), id(model.visual[1].weight), id(model.visual[1].bias)}
    assert ids["text/decay"] == {id(model.text.model[0].weight), id(model.text.model[1].weight)}
    assert groups["main/no_decay"]["weight_decay"] == 0.0 and groups["text/decay"]["weight_decay"] == 0.05
    all_ids = set().union(*ids.values())
    assert id(model.frozen.weight) not in all_ids
    opt = build_optimizer(model, OptimConfig())
    set_lr(opt, 1e-3)
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert lrs["main/decay"] == pytest.approx(1e-3) and lrs["text/decay"] == pytest.approx(1e-4)


def test_adan_has_the_paper_defaults_and_steps():
    from pytorch_optimizer import Adan

    model = _Toy()
    opt = build_optimizer(model, OptimConfig())
    assert isinstance(opt, Adan)
    assert opt.defaults["betas"] == (0.98, 0.92, 0.99) and opt.defaults["weight_decay"] == 0.02
    before = model.visual[0].weight.detach().clone()
    model.visual(torch.randn(3, 4)).sum().backward()
    set_lr(opt, lr_at(5, OptimConfig(), 700))
    opt.step()
    assert not torch.equal(before, model.visual[0].weight)
