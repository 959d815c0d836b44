"""SpacCaptioner: branch layers and shapes, style encoders, and the teacher-forced loss vs a hand computation."""

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from captioner_fixtures import tiny_captioner  # noqa: E402

from spac.captioner.branches import attribute_branch, sentence_branch  # noqa: E402
from spac.captioner.data import Collate  # noqa: E402
from spac.records import SLOTS  # noqa: E402


def _linears(branch):
    return [(m.in_features, m.out_features) for m in branch.modules() if isinstance(m, nn.Linear)]


def test_branch_layers_and_shapes_follow_the_table():
    fmap = torch.randn(2, 16, 8, 4)
    attr, sent = attribute_branch(16, 32), sentence_branch(16, 32)
    assert attr(fmap).shape == (2, 3, 32)
    assert sent(fmap).shape == (2, 5, 32)
    assert _linears(attr) == [(16, 32), (32, 96)]  # c -> d -> 3d (768 -> 2304 at GPT-2 width)
    assert _linears(sent) == [(16, 64), (64, 160)]  # c -> 2d -> 5d (1536 -> 3840)
    assert len(attr.convs) == 1 and len(sent.convs) == 2
    assert all(c.stride == (2, 2) and c.kernel_size == (3, 3) and c.padding == (1, 1) for c in sent.convs)
    drops = [m.p for m in attr.modules() if isinstance(m, nn.Dropout)]
    assert drops == [0.25, 0.25]
    assert [m.negative_slope for m in attr.modules() if isinstance(m, nn.LeakyReLU)] == [pytest.approx(1 / 5.5)]


def test_attribute_pool_grid_keeps_position():
    """A (4, 2) pool grid feeds c * 8 features to the first Linear, and (unlike the global pool) the prefix
    changes when the same feature moves from the top to the bottom of the map."""
    grid, flat = attribute_branch(16, 32, pool=(4, 2)).eval(), attribute_branch(16, 32).eval()
    assert _linears(grid)[0] == (16 * 8, 32)
    with torch.no_grad():
        for branch in (grid, flat):
            branch.convs[0].weight.zero_()
            branch.convs[0].weight[:, :, 1, 1] = torch.eye(16)  # identity conv: pooling alone decides
            branch.convs[0].bias.zero_()
        top, bottom = torch.zeros(1, 16, 8, 4), torch.zeros(1, 16, 8, 4)
        top[0, 3, 0, 0], bottom[0, 3, 6, 0] = 1.0, 1.0
        assert torch.equal(flat(top), flat(bottom))
        assert not torch.allclose(grid(top), grid(bottom))
    with pytest.raises(ValueError, match="attribute_pool"):
        from spac.captioner.config import CaptionerModelConfig

        CaptionerModelConfig(layers=(1, 1, 1, 1), attribute_pool=(0, 2))


@pytest.fixture(scope="module")
def tiny():
    model, tok = tiny_captioner()
    return model.eval(), tok


def test_prefix_shapes_and_distinct_styles(tiny):
    model, _ = tiny
    images = torch.randint(0, 256, (3, 3, 64, 32), dtype=torch.uint8)
    p = model.encode(images)
    assert p.attributes.shape == (3, 6, 3, 32)
    assert p.sentence.shape == (3, 5, 32)
    assert p.union().shape == (3, 23, 32)
    c0, c1 = model.caption_prefix(p, 0), model.caption_prefix(p, 1)
    assert c0.shape == (3, 23, 32)
    assert (c0 - c1).abs().mean() > 1e-3  # the two styles give different prefixes for the same image
    mixed = model.caption_prefix(p, torch.tensor([1, 0, 1]))
    torch.testing.assert_close(mixed, torch.stack([c1[0], c0[1], c1[2]]))


def _hand_nll(decoder, prefix, ids, mask):
    """Mean NLL of the masked targets after ``prefix``, position by position from the full logits."""
    total, count = 0.0, 0
    for row in range(ids.shape[0]):
        n = int(mask[row].sum())
        embeds = torch.cat([prefix[row], decoder.get_input_embeddings()(ids[row, :n])])[None]
        logp = torch.log_softmax(decoder(inputs_embeds=embeds).logits[0].float(), dim=-1)
        p = prefix.shape[1]
        total += sum(-float(logp[p - 1 + j, ids[row, j]]) for j in range(n))
        count += n
    return total / count


@torch.no_grad()
def test_loss_matches_hand_computation(tiny):
    model, tok = tiny
    collate = Collate(tok, max_attribute_tokens=6, max_caption_tokens=24)
    items = [
        {"image": torch.randint(0, 256, (3, 64, 32), dtype=torch.uint8), "caption": cap, "style": s,
         "targets": targets}
        for cap, s, targets in [
            ("A man with short black hair.", 0, ("man", "short black hair", "red jacket", "blue jeans",
                                                 "white sneakers", "unknown")),
            ("The woman wears a white t-shirt and a gray skirt.", 1,
             ("woman", "long brown hair", "white t-shirt", "gray skirt", "black shoes", "black backpack")),
        ]
    ]
    b = collate(items)
    losses = model(b["images"], b["attribute_ids"], b["attribute_mask"], b["caption_ids"], b["caption_mask"],
                   b["styles"], attribute_weight=0.15)
    p = model.encode(b["images"])
    per_slot = [_hand_nll(model.decoder, p.attributes[:, k], b["attribute_ids"][:, k], b["attribute_mask"][:, k])
                for k in range(len(SLOTS))]
    caption = _hand_nll(model.decoder, model.caption_prefix(p, b["styles"]), b["caption_ids"], b["caption_mask"])
    for k, slot in enumerate(SLOTS):
        assert float(losses.per_slot[slot]) == pytest.approx(per_slot[k], rel=1e-4)
    assert float(losses.caption) == pytest.approx(caption, rel=1e-4)
    assert float(losses.total) == pytest.approx(caption + 0.15 * sum(per_slot), rel=1e-4)
    # targets end with EOS and padding is masked out
    assert b["caption_ids"][0, int(b["caption_mask"][0].sum()) - 1] == tok.eos_token_id


def test_gradients_reach_every_branch_and_used_style(tiny):
    model, tok = tiny
    model.train()
    collate = Collate(tok, max_attribute_tokens=6, max_caption_tokens=16, hflip=0.5)
    items = [{"image": torch.randint(0, 256, (3, 64, 32), dtype=torch.uint8), "caption": "a man", "style": 0,
              "targets": ("man",) * 6}] * 2
    b = collate(items)
    model.zero_grad()
    model(b["images"], b["attribute_ids"], b["attribute_mask"], b["caption_ids"], b["caption_mask"],
          b["styles"]).total.backward()
    for k, branch in enumerate(model.attribute_branches):
        assert branch.mlp[0].weight.grad.abs().sum() > 0, SLOTS[k]
    assert model.sentence_branch.mlp[0].weight.grad.abs().sum() > 0
    assert model.style_encoders[0].linear.weight.grad.abs().sum() > 0
    assert model.style_encoders[1].linear.weight.grad is None  # style 1 had no caption in this batch
    assert model.encoder.trunk.conv1.weight.grad.abs().sum() > 0
    model.eval()
