"""Tiny captioner pieces shared by the captioner tests (built from configs; nothing downloaded)."""

from spac.captioner.config import CaptionerModelConfig, DecoderConfig

TINY_TEXTS = [
    "A man with short black hair is wearing a red jacket and blue jeans.",
    "The woman wears a white t-shirt, a gray skirt and black shoes. She carries a red handbag.",
    "man", "woman", "short black hair", "long brown hair", "red jacket", "blue jeans", "white sneakers",
    "black shoes", "black backpack", "unknown",
]


def tiny_model_config(**changes) -> CaptionerModelConfig:
    base = dict(layers=(1, 1, 1, 1), width=8, fpn_dim=16, image_size=(64, 32), styles=("cuhk", "icfg"),
                decoder=DecoderConfig(name="config", n_embd=32, n_layer=2, n_head=2, n_positions=128))
    return CaptionerModelConfig(**{**base, **changes})


def tiny_captioner(**changes):
    import torch

    from spac.captioner.model import SpacCaptioner, build_decoder
    from spac.captioner.tokenizer import train_bpe

    torch.manual_seed(0)
    tok = train_bpe(TINY_TEXTS, vocab_size=300)
    cfg = tiny_model_config(**changes)
    model = SpacCaptioner(cfg, build_decoder(cfg, vocab_size=len(tok), eos_token_id=tok.eos_token_id))
    return model, tok
