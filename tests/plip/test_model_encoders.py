"""Image/text encoders: RN50 shapes at 256x128, the modified-ResNet structure and init, poolings, freezing."""

from __future__ import annotations

import pytest
import torch
from plip_model_fixtures import make_tokenizer
from transformers import BertConfig, BertModel

from plip.models import RESNET_LAYERS, ModifiedResNet, PlipConfig, build_model
from plip.models.pooling import AttentionPool2d, MaxPoolHead
from plip.models.text import TextEncoder

TINY_TEXT = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 64,
    "vocab_size": 120,
}


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return make_tokenizer(tmp_path_factory.mktemp("tok"))


@pytest.mark.parametrize("image_pool", ["max", "attention"])
def test_rn50_shapes_at_256x128_with_tiny_text(tokenizer, image_pool):
    torch.manual_seed(0)
    cfg = PlipConfig(depth=50, image_pool=image_pool, embed_dim=32, text_model=None, text_config=TINY_TEXT)
    model = build_model(cfg, tokenizer).eval()
    assert model.stage_channels == (256, 512, 1024, 2048)
    with torch.no_grad():
        feats = model.encode_image(torch.randint(0, 256, (2, 3, 256, 128), dtype=torch.uint8))
        text = model.encode_text(torch.randint(5, 120, (2, 64)), torch.ones(2, 64, dtype=torch.long))
    assert [tuple(m.shape) for m in feats.maps] == [
        (2, 256, 64, 32),
        (2, 512, 32, 16),
        (2, 1024, 16, 8),
        (2, 2048, 8, 4),
    ]
    assert feats.embed.shape == (2, 32) and text.tokens.shape == (2, 64, 32) and text.embed.shape == (2, 32)
    if image_pool == "attention":
        assert model.visual_pool.positional_embedding.shape == (8 * 4 + 1, 2048)


@pytest.mark.parametrize("depth", [50, 101, 152])
def test_depths_have_the_paper_block_counts(depth):
    net = ModifiedResNet(PlipConfig(depth=depth, text_model="x").stage_layers, width=8)
    assert tuple(len(s) for s in (net.layer1, net.layer2, net.layer3, net.layer4)) == RESNET_LAYERS[depth]
    assert RESNET_LAYERS == {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def test_modified_resnet_structure_and_clip_init():
    net = ModifiedResNet((2, 2, 2, 2), width=16)
    # 3-conv stem (stride 2 only in the first conv) followed by an average pool.
    assert [net.conv1.stride, net.conv2.stride, net.conv3.stride] == [(2, 2), (1, 1), (1, 1)]
    assert (net.conv1.out_channels, net.conv2.out_channels, net.conv3.out_channels) == (8, 8, 16)
    assert isinstance(net.avgpool, torch.nn.AvgPool2d)
    for stage in (net.layer2, net.layer3, net.layer4):
        first = stage[0]
        # Anti-aliasing: every conv has stride 1; an avg-pool does the striding, also on the shortcut.
        assert all(m.stride == (1, 1) for m in first.modules() if isinstance(m, torch.nn.Conv2d))
        assert isinstance(first.avgpool, torch.nn.AvgPool2d) and first.avgpool.kernel_size == 2
        assert isinstance(first.downsample[0], torch.nn.AvgPool2d)
    bn3 = [m.bn3.weight for s in (net.layer1, net.layer2, net.layer3, net.layer4) for m in s]
    assert all(torch.count_nonzero(w) == 0 for w in bn3)
    assert torch.count_nonzero(net.bn3.weight) > 0  # the stem's bn3 is not a residual branch


def test_attention_pool_matches_multihead_attention_with_mean_query():
    torch.manual_seed(0)
    pool = AttentionPool2d((2, 3), 8, 2, 5).eval()
    x = torch.randn(4, 8, 2, 3)
    mha = torch.nn.MultiheadAttention(8, 2)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([pool.q_proj.weight, pool.k_proj.weight, pool.v_proj.weight]))
        mha.in_proj_bias.copy_(torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]))
        mha.out_proj.weight.copy_(torch.eye(8))
        mha.out_proj.bias.zero_()
    tokens = x.flatten(2).permute(2, 0, 1)
    tokens = torch.cat([tokens.mean(0, keepdim=True), tokens]) + pool.positional_embedding[:, None]
    expected = pool.c_proj(mha(tokens[:1], tokens, tokens, need_weights=False)[0][0])
    torch.testing.assert_close(pool(x), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="grid"):
        pool(torch.randn(1, 8, 4, 3))


def test_max_pool_head_is_max_then_linear():
    head = MaxPoolHead(6, 4)
    x = torch.randn(3, 6, 5, 2)
    torch.testing.assert_close(head(x), head.proj(x.flatten(2).max(dim=2).values))


def _bert(layers=4):
    cfg = BertConfig(
        hidden_size=16, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=32, vocab_size=50
    )
    return BertModel(cfg).eval()


def test_text_poolings_against_direct_computation():
    torch.manual_seed(0)
    ids = torch.randint(5, 50, (3, 10))
    mask = torch.ones(3, 10, dtype=torch.long)
    mask[0, 6:] = 0
    mask[2, 3:] = 0
    bert = _bert(2)
    hidden = bert(input_ids=ids, attention_mask=mask)
    expected_mean = torch.stack([hidden.last_hidden_state[i, : int(mask[i].sum())].mean(0) for i in range(3)])
    torch.testing.assert_close(TextEncoder(bert, "mean")(ids, mask)[1], expected_mean)
    torch.testing.assert_close(TextEncoder(bert, "mean_all")(ids, mask)[1], hidden.last_hidden_state.mean(1))
    torch.testing.assert_close(TextEncoder(bert, "pooler")(ids, mask)[1], hidden.pooler_output)


def test_released_freezing_policy_on_a_12_layer_bert():
    enc = TextEncoder(_bert(12), pool="pooler", trainable_layers=4)
    trainable = {n for n, p in enc.model.named_parameters() if p.requires_grad}
    layers = {n.split(".")[2] for n in trainable if n.startswith("encoder.layer.")}
    assert layers == {"8", "9", "10", "11"}
    assert {n.split(".")[0] for n in trainable} == {"encoder", "pooler"}
    assert not any(n.startswith("embeddings") for n in trainable)


def test_last_k_layers_generalises_and_unused_pooler_is_frozen():
    enc = TextEncoder(_bert(4), pool="mean", trainable_layers=1)
    trainable = {n for n, p in enc.model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("encoder.layer.3.") for n in trainable)
    everything = TextEncoder(_bert(4), pool="mean", trainable_layers=None)
    assert not any(p.requires_grad for p in everything.model.pooler.parameters())
    assert all(p.requires_grad for n, p in everything.model.named_parameters() if not n.startswith("pooler"))
    beyond = TextEncoder(_bert(4), pool="mean", trainable_layers=5)
    trainable = {n for n, p in beyond.model.named_parameters() if p.requires_grad}
    assert {n.split(".")[2] for n in trainable} == {"0", "1", "2", "3"} and all(
        n.startswith("encoder.") for n in trainable
    )
    with pytest.raises(ValueError, match=">= 0"):
        TextEncoder(_bert(4), trainable_layers=-1)


def test_config_validation_and_round_trip():
    cfg = PlipConfig.tiny(vocab_size=120)
    assert PlipConfig.from_dict(cfg.to_dict()) == cfg
    assert PlipConfig.from_dict({**cfg.to_dict(), "layers": [1, 1, 1, 1], "image_size": [256, 128]}) == cfg
    with pytest.raises(ValueError, match="depth"):
        PlipConfig(depth=34)
    with pytest.raises(ValueError, match="image_pool"):
        PlipConfig(image_pool="avg")
    with pytest.raises(ValueError, match="multiple of 32"):
        PlipConfig(image_size=(250, 128))
    with pytest.raises(ValueError, match="unknown PlipConfig fields"):
        PlipConfig.from_dict({"depht": 50})
    with pytest.raises(ValueError, match="hidden size"):
        build_model(PlipConfig.tiny(vocab_size=120, embed_dim=64))


def test_build_model_takes_vocab_and_mask_id_from_tokenizer(tokenizer):
    model = build_model(PlipConfig.tiny(), tokenizer)
    assert model.vocab_size == len(tokenizer) == model.config.vocab_size
    assert model.config.mask_token_id == tokenizer.mask_token_id
    assert model.config.pad_token_id == tokenizer.pad_token_id


def test_uint8_images_are_normalised_with_configured_stats():
    model = build_model(PlipConfig.tiny(vocab_size=50))
    images = torch.randint(0, 256, (2, 3, 64, 32), dtype=torch.uint8)
    mean = torch.tensor(model.config.mean).view(1, 3, 1, 1)
    std = torch.tensor(model.config.std).view(1, 3, 1, 1)
    torch.testing.assert_close(model.normalize_images(images), (images / 255.0 - mean) / std)
    floats = torch.randn(2, 3, 64, 32)
    assert model.normalize_images(floats) is floats


def test_text_model_from_a_local_pretrained_folder(tmp_path, tokenizer):
    torch.manual_seed(0)
    bert = BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2))
    bert.save_pretrained(tmp_path / "bert")
    model = build_model(PlipConfig.tiny(text_model=str(tmp_path / "bert"), text_config=None), tokenizer)
    assert torch.equal(
        model.text.model.encoder.layer[1].output.dense.weight, bert.encoder.layer[1].output.dense.weight
    )
