"""The ``hf`` back-end with a tiny config-built BLIP saved to a folder (no download), and prompt stripping."""

import json
from pathlib import Path

import pytest

from spac.captioner.backend_hf import strip_prompt
from spac.captioner.backends import build_backend
from spac.captioner.inference import caption_source


def test_strip_prompt():
    assert strip_prompt("a picture of a man in red", "a picture of") == "a man in red"
    assert strip_prompt("A  Picture of, a man", "a picture of") == "a man"
    assert strip_prompt("a man walking", "a picture of") == "a man walking"
    assert strip_prompt(" a man ", "") == "a man"


@pytest.fixture(scope="module")
def tiny_blip(tmp_path_factory):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizerFast, BlipConfig, BlipForConditionalGeneration, BlipProcessor
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    out = tmp_path_factory.mktemp("blip")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(["a picture of a man in a red jacket", "a woman with a black bag"] * 5,
                            trainers.WordPieceTrainer(vocab_size=80, special_tokens=["[PAD]", "[UNK]", "[CLS]",
                                                                                     "[SEP]", "[MASK]"]))
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    (out / "vocab.txt").write_text("".join(w + "\n" for w, _ in vocab))
    bert = BertTokenizerFast(vocab=str(out / "vocab.txt"))  # not vocab_file= (ENV.md §2.1)
    ids = {"bos_token_id": bert.cls_token_id, "pad_token_id": bert.pad_token_id, "sep_token_id": bert.sep_token_id,
           "eos_token_id": bert.sep_token_id}
    cfg = BlipConfig(
        text_config=dict(vocab_size=len(bert), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, encoder_hidden_size=32, **ids),
        vision_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                           image_size=32, patch_size=8),
        projection_dim=32,
    )
    BlipForConditionalGeneration(cfg).save_pretrained(out)
    BlipProcessor(image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}),
                  tokenizer=bert).save_pretrained(out)
    return out


def test_hf_backend_captions_with_prompt_stripped(tiny_blip, tmp_path):
    backend = build_backend("hf", model=str(tiny_blip), prompts={"blip": "a picture of"}, max_new_tokens=6,
                            num_beams=2, device="cpu")
    assert backend.revision and backend.revision != "unknown"
    opts = {"identities": 2, "images_per_identity": 2, "seed": 0}
    summary = caption_source(backend, "demo", opts, tmp_path, batch_size=3, part_size=10, progress=False)
    assert summary.images == 4 and summary.errors == 0
    lines = [json.loads(x) for x in Path(tmp_path, "part-00000.jsonl").read_text().splitlines()]
    assert [x["source_ref"] for x in lines] == ["000000_00", "000000_01", "000001_00", "000001_01"]
    for line in lines:
        assert line["generator"] == "hf" and line["revision"] == backend.revision
        for c in line["captions"]:
            assert c["style"] == "blip" and not c["text"].lower().startswith("a picture of")


def test_hf_backend_needs_a_local_folder(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        build_backend("hf", model=str(tmp_path / "missing"))
