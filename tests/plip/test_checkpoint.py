"""Checkpoints: our folder round-trips; a released-format checkpoint converts and embeds like the released code.

The reference below re-implements the released inference modules (``visual_model.py`` Image_encoder_ModifiedResNet
with attention pool, ``textual_model.py`` Textual_encoder over BertModel, ``zs_infer.py`` preprocessing) so
that a state dict with their exact key layout can be produced offline with random weights.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from plip_model_fixtures import corpus, make_batch, make_tokenizer
from torch import nn
from transformers import BertConfig, BertModel
from typer.testing import CliRunner

from plip.checkpoint import load_pretrained, load_released, save_pretrained
from plip.cli import convert as convert_cli
from plip.cli import embed as embed_cli
from plip.models import PlipConfig, build_model

# ---------------------------------------------------------------- reference: the released inference modules


class RefBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu3 = nn.ReLU(inplace=True)
        self.downsample = None
        if stride > 1 or inplanes != planes * RefBottleneck.expansion:
            self.downsample = nn.Sequential(
                OrderedDict(
                    [
                        ("-1", nn.AvgPool2d(stride)),
                        ("0", nn.Conv2d(inplanes, planes * self.expansion, 1, stride=1, bias=False)),
                        ("1", nn.BatchNorm2d(planes * self.expansion)),
                    ]
                )
            )

    def forward(self, x):
        identity = x
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.avgpool(out)
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu3(out + identity)


class RefAttentionPool2d(nn.Module):
    def __init__(self, spacial_dim_x, spacial_dim_y, embed_dim, num_heads, output_dim=None):
        super().__init__()
        self.positional_embedding = nn.Parameter(
            torch.randn(spacial_dim_x * spacial_dim_y + 1, embed_dim) / embed_dim**0.5
        )
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim or embed_dim)
        self.num_heads = num_heads

    def forward(self, x):
        x = x.flatten(start_dim=2).permute(2, 0, 1)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)
        x = x + self.positional_embedding[:, None, :].to(x.dtype)
        x, _ = F.multi_head_attention_forward(
            query=x[:1], key=x, value=x, embed_dim_to_check=x.shape[-1], num_heads=self.num_heads,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight,
            in_proj_weight=None, in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0, out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias, use_separate_proj_weight=True, training=self.training, need_weights=True,
        )  # fmt: skip
        return x.squeeze(0)


class Image_encoder_ModifiedResNet(nn.Module):  # noqa: N801 (the released class name)
    def __init__(self, layers, output_dim, heads, input_resolution=(256, 128), width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width // 2, width // 2, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(width // 2, width, kernel_size=3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.relu3 = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(2)
        self._inplanes = width
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(width * 8, layers[3], stride=2)
        embed_dim = width * 32
        self.attnpool = RefAttentionPool2d(
            input_resolution[0] // 32, input_resolution[1] // 32, embed_dim, heads, output_dim
        )

    def _make_layer(self, planes, blocks, stride=1):
        layers = [RefBottleneck(self._inplanes, planes, stride)]
        self._inplanes = planes * RefBottleneck.expansion
        for _ in range(1, blocks):
            layers.append(RefBottleneck(self._inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = x.type(self.conv1.weight.dtype)
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.avgpool(x)
        x1 = self.layer1(x)
        x2 = self.layer2(x1)
        x3 = self.layer3(x2)
        x4 = self.layer4(x3)
        return self.attnpool(x4), x1, x2, x3, x4


class Textual_encoder(nn.Module):  # noqa: N801
    def __init__(self, config):  # the released code calls BertModel.from_pretrained(encoder_type)
        super().__init__()
        self.encoder = BertModel(config)
        for name, param in self.encoder.named_parameters():
            param.requires_grad = any(k in name for k in ["layer.8", "layer.9", "layer.10", "layer.11", "pooler"])

    def get_global_embedding(self, token, mask):
        return self.encoder(input_ids=token, attention_mask=mask).pooler_output


def ref_transform(path):
    """zs_infer.py: Resize((256, 128), interpolation=3) -> ToTensor -> Normalize(SYNTH-PEDES mean/std)."""
    img = Image.open(path).convert("RGB").resize((128, 256), Image.BICUBIC)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return (x - torch.tensor([0.357, 0.323, 0.328]).view(3, 1, 1)) / torch.tensor([0.252, 0.242, 0.239]).view(3, 1, 1)


def randomize(module):
    """Random weights everywhere, including BN statistics and the zero-initialised bn3 weights."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() == 1 and ("bn" in name or "downsample.1" in name or "LayerNorm" in name):
                p.copy_(0.5 + torch.rand(p.shape, generator=g))
            else:
                p.add_(0.02 * torch.randn(p.shape, generator=g))
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A text-model folder (config + tokenizer), a released-format checkpoint, images and texts."""
    root = tmp_path_factory.mktemp("released")
    text_dir = root / "bert"
    tok = make_tokenizer(text_dir)
    bert_cfg = BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=12, num_attention_heads=2, intermediate_size=48
    )
    bert_cfg.save_pretrained(text_dir)
    torch.manual_seed(0)
    image_enc = Image_encoder_ModifiedResNet([1, 2, 1, 1], output_dim=32, heads=8, width=16)
    text_enc = Textual_encoder(bert_cfg)
    randomize(image_enc)
    randomize(text_enc)
    image_enc.eval()
    text_enc.eval()
    image_state = image_enc.state_dict()
    text_state = OrderedDict(text_enc.state_dict())
    # Checkpoints written with older transformers carry this buffer (official repo issue #15).
    text_state["encoder.embeddings.position_ids"] = torch.arange(512).unsqueeze(0)
    ckpt = root / "PLIP_RN50.pth.tar"
    torch.save({"ImgEncoder_state_dict": image_state, "TxtEncoder_state_dict": text_state}, ckpt)

    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for name, (h, w) in {"b.jpg": (300, 120), "a.png": (128, 64), "c10.jpg": (90, 40), "c2.png": (256, 128)}.items():
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(images / name)
    (images / "notes.txt").write_text("not an image")
    texts = root / "texts.txt"
    lines = [corpus()[0], "a woman carrying a red handbag", " ".join(corpus()[:6])]  # the last one is truncated
    texts.write_text("\n".join(lines) + "\n")
    with torch.no_grad():
        paths = sorted(p for p in images.iterdir() if p.suffix != ".txt")
        ref_images = image_enc(torch.stack([ref_transform(p) for p in paths]))[0]
        enc = tok(lines, padding="max_length", max_length=64, truncation=True, return_tensors="pt")
        ref_texts = text_enc.get_global_embedding(enc["input_ids"], enc["attention_mask"])
    return {"root": root, "ckpt": ckpt, "text_dir": text_dir, "images": images, "texts": texts,
            "ref_images": ref_images.numpy(), "ref_texts": ref_texts.numpy()}  # fmt: skip


# ---------------------------------------------------------------- tests


def test_convert_then_embed_equals_the_released_code(released):
    runner = CliRunner()
    out = released["root"] / "converted"
    res = runner.invoke(
        convert_cli.app, [str(released["ckpt"]), "--text-model", str(released["text_dir"]), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    res = runner.invoke(
        embed_cli.app, ["--model", str(out), "--images", str(released["images"]), "--out", str(out / "img.npy")]
    )
    assert res.exit_code == 0, res.output
    got = np.load(out / "img.npy")
    assert got.shape == (4, 32) and got.dtype == np.float32
    np.testing.assert_allclose(got, released["ref_images"], rtol=1e-4, atol=1e-5)
    res = runner.invoke(
        embed_cli.app, ["--model", str(out), "--texts", str(released["texts"]), "--out", str(out / "txt.npy")]
    )
    assert res.exit_code == 0, res.output
    got = np.load(out / "txt.npy")
    assert got.shape == (3, 32)
    np.testing.assert_allclose(got, released["ref_texts"], rtol=1e-4, atol=1e-5)
    # The released layout: attention pool, pooler, RN blocks from the checkpoint, layers 8-11 + pooler trainable.
    model = load_pretrained(out)
    assert model.config.image_pool == "attention" and model.config.text_pool == "pooler"
    assert model.config.stage_layers == (1, 2, 1, 1) and model.config.width == 16
    trainable = {n.split(".")[3] for n, p in model.text.named_parameters() if p.requires_grad and ".layer." in n}
    assert trainable == {"8", "9", "10", "11"}


def test_module_prefix_and_missing_parts(released, tmp_path):
    ckpt = torch.load(released["ckpt"], weights_only=True)
    ddp = tmp_path / "ddp.pth.tar"
    torch.save({k: {"module." + n: v for n, v in sd.items()} for k, sd in ckpt.items()}, ddp)
    model = load_released(ddp, released["text_dir"]).eval()
    with torch.no_grad():
        emb = model.encode_image(torch.stack([ref_transform(sorted(released["images"].glob("*.png"))[0])])).embed
    np.testing.assert_allclose(emb.numpy()[0], released["ref_images"][0], rtol=1e-4, atol=1e-5)

    broken = tmp_path / "broken.pth.tar"
    torch.save({"ImgEncoder_state_dict": ckpt["ImgEncoder_state_dict"]}, broken)
    with pytest.raises(ValueError, match="TxtEncoder_state_dict"):
        load_released(broken, released["text_dir"])
    res = CliRunner().invoke(convert_cli.app, [str(broken), "--text-model", str(released["text_dir"]), "--out", "x"])
    assert res.exit_code == 1 and "TxtEncoder_state_dict" in res.output

    small = tmp_path / "bert6"
    make_tokenizer(small)
    BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=6, num_attention_heads=2).save_pretrained(small)
    with pytest.raises(ValueError, match="does not match"):
        load_released(released["ckpt"], small)


def test_embed_cli_errors(released, tmp_path):
    runner = CliRunner()
    res = runner.invoke(embed_cli.app, ["--model", str(tmp_path), "--texts", str(released["texts"]), "--out", "x.npy"])
    assert res.exit_code == 1 and "config.json" in res.output
    res = runner.invoke(embed_cli.app, ["--model", str(tmp_path), "--out", "x.npy"])
    assert res.exit_code == 2 and "exactly one" in res.output
    model_dir = save_pretrained(build_model(PlipConfig.tiny(), make_tokenizer(tmp_path / "tok")), tmp_path / "m")
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGB", (8, 16)).save(folder / "a.jpg")
    (folder / "broken.jpg").write_bytes(b"truncated")
    res = runner.invoke(embed_cli.app, ["--model", str(model_dir), "--images", str(folder), "--out", "x.npy"])
    assert res.exit_code == 1 and "broken.jpg" in res.output


def test_save_load_round_trip(tmp_path):
    tok = make_tokenizer(tmp_path / "tok")
    torch.manual_seed(0)
    cfg = PlipConfig.tiny(image_pool="attention", text_trainable_layers=1, max_length=32)
    model = build_model(cfg, tok).eval()
    save_pretrained(model, tmp_path / "ckpt")
    loaded = load_pretrained(tmp_path / "ckpt").eval()
    assert loaded.config == model.config.replace(text_model=None, text_config=loaded.config.text_config)
    assert loaded.tokenizer is not None and len(loaded.tokenizer) == len(tok)
    assert [p.requires_grad for p in loaded.parameters()] == [p.requires_grad for p in model.parameters()]
    batch = make_batch(tok, [0, 1, 2])
    with torch.no_grad():
        a, b = model.encode_image(batch.images), loaded.encode_image(batch.images)
        ta = model.encode_text(batch.input_ids, batch.attention_mask)
        tb = loaded.encode_text(batch.input_ids, batch.attention_mask)
    assert torch.equal(a.embed, b.embed) and torch.equal(ta.embed, tb.embed)
