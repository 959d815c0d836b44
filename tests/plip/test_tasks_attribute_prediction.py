"""IAP: mask-ratio schedule, whole-phrase masking that touches only phrase tokens, and the masked-token CE."""

from __future__ import annotations

import math

import pytest
import torch
from plip_model_fixtures import make_batch, make_tokenizer

from plip.models import PlipConfig, build_model
from plip.tasks import Features
from plip.tasks.attribute_prediction import (
    AttributePrediction,
    AttributePredictionConfig,
    mask_ratio,
    sample_phrase_mask,
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.manual_seed(0)
    tok = make_tokenizer(tmp_path_factory.mktemp("tok"))
    model = build_model(PlipConfig.tiny(), tok).eval()
    return model, tok, make_batch(tok, [0, 1, 2, 3, 4, 5])


def test_schedule_values():
    assert mask_ratio(0.0) == pytest.approx(0.2)
    assert mask_ratio(0.25) == pytest.approx(0.5)  # 0.2 + 0.6 * sqrt(0.25)
    assert mask_ratio(1.0) == pytest.approx(0.8)
    assert mask_ratio(0.5) == pytest.approx(0.2 + 0.6 * math.sqrt(0.5))
    assert mask_ratio(0.5, schedule="linear") == pytest.approx(0.5)
    assert mask_ratio(0.5, schedule="square") == pytest.approx(0.35)
    assert mask_ratio(2.0) == pytest.approx(0.8) and mask_ratio(-1.0) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="schedule"):
        AttributePredictionConfig(schedule="cosine")


def test_masking_takes_whole_phrases_and_nothing_else(setup):
    _, _, batch = setup
    pid = batch.phrase_ids
    assert (pid > 0).sum() > 10
    torch.manual_seed(1)
    for ratio in (0.0, 0.3, 0.7, 1.0):
        m = sample_phrase_mask(pid, ratio)
        assert not m[pid == 0].any()  # special tokens, padding and non-attribute words are never masked
        for i in range(pid.shape[0]):
            for k in pid[i].unique().tolist():
                if k > 0:
                    sel = m[i][pid[i] == k]
                    assert sel.all() or not sel.any()  # whole phrase or nothing
    assert sample_phrase_mask(pid, 1.0).equal(pid > 0)
    only = sample_phrase_mask(pid, 0.0)  # at least one phrase even at ratio 0
    assert only.any() and len({(i, int(pid[i, j])) for i, j in only.nonzero().tolist()}) == 1
    assert not sample_phrase_mask(torch.zeros_like(pid), 0.5).any()


def test_phrase_ratio_is_the_schedule_ratio():
    pid = torch.arange(1, 6).repeat(400, 1).repeat_interleave(2, dim=1)  # 400 rows x 5 two-token phrases
    torch.manual_seed(0)
    frac = sample_phrase_mask(pid, 0.3).float().mean().item()
    assert frac == pytest.approx(0.3, abs=0.02)


def test_corruption_replaces_only_masked_tokens(setup):
    model, tok, batch = setup
    task = AttributePrediction(AttributePredictionConfig(), model)
    m = sample_phrase_mask(batch.phrase_ids, 0.5)
    ids = task.corrupt(batch.input_ids, m)
    assert (ids[m] == tok.mask_token_id).all() and ids[~m].equal(batch.input_ids[~m])
    bert = AttributePrediction(AttributePredictionConfig(replace="bert"), model)
    ids = bert.corrupt(batch.input_ids, m)
    assert ids[~m].equal(batch.input_ids[~m])


@pytest.mark.parametrize("fusion", ["sum", "concat"])
def test_loss_is_cross_entropy_on_masked_tokens_only(setup, fusion):
    model, tok, batch = setup
    task = AttributePrediction(AttributePredictionConfig(fusion=fusion, num_layers=2), model).eval()
    feats = Features(model, batch)
    progress = 0.3
    torch.manual_seed(7)
    out = task(model, batch, feats, progress)
    torch.manual_seed(7)
    m = sample_phrase_mask(batch.phrase_ids, mask_ratio(progress))
    with torch.no_grad():
        masked_ids = batch.input_ids.masked_fill(m, tok.mask_token_id)
        tokens = model.encode_text(masked_ids, batch.attention_mask).tokens
        v = feats.image.embed[:, None].expand_as(tokens)
        h = task.fuse(torch.cat([tokens, v], -1)) if fusion == "concat" else tokens + v
        for block in task.blocks:
            h = block(h, src_key_padding_mask=batch.attention_mask == 0)
        logits = task.head(task.norm(h)).double()  # every position; the loss must only read masked ones
    terms = [torch.logsumexp(logits[i, j], 0) - logits[i, j, batch.input_ids[i, j]] for i, j in m.nonzero().tolist()]
    assert out.loss.item() == pytest.approx(torch.stack(terms).mean().item(), rel=1e-5)
    assert out.metrics["masked_tokens"].item() == m.sum().item()
    assert out.metrics["mask_ratio"].item() == pytest.approx(mask_ratio(progress))


def test_batch_without_phrases_gives_zero_loss_that_reaches_the_head(setup):
    model, _, batch = setup
    task = AttributePrediction(AttributePredictionConfig(), model)
    empty = batch.__class__(**{**batch.__dict__, "phrase_ids": torch.zeros_like(batch.phrase_ids)})
    out = task(model, empty, Features(model, empty), 0.5)
    out.loss.backward()
    assert out.loss.item() == 0.0 and task.head.weight.grad is not None
    model.zero_grad(set_to_none=True)
