"""Images/s of ``spac caption`` (the ``spac`` back-end) at a given batch size, next to the model-only rate.

    .venv/bin/python benchmarks/caption_throughput.py --batch-size 16 --images 64            # CPU, tiny model
    python benchmarks/caption_throughput.py --size paper --batch-size 64 --images 2048 --device cuda   # RN101 + GPT-2

The model is randomly initialised at the chosen size (``tiny``: ResNet (1,1,1,1) x 16 + 2-layer GPT-2 of width
128 at 64x32; ``paper``: ResNet-101-FPN + GPT-2 small (12 x 768, vocab 50257) at 384x128), saved as a checkpoint
and run end to end over the demo source: image reads, decode/resize, prefixes, 6 attribute sequences and 2
styled captions per image, JSONL parts. A random decoder rarely emits EOS, so every sequence runs to its max
length (``--max-attribute-tokens``/``--max-caption-tokens``): an upper bound on decoding work. The limit is the
model alone on pre-made uint8 batches (same batch size, same decoding); the ratio shows the pipeline overhead.
Numbers on the shared 2-core CPU VM move by +-30 %.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from spac.captioner.backends import build_backend
from spac.captioner.checkpoint import save_captioner
from spac.captioner.config import CaptionerModelConfig, DecoderConfig
from spac.captioner.inference import caption_source
from spac.captioner.model import SpacCaptioner, build_decoder
from spac.captioner.predict import predict
from spac.captioner.tokenizer import train_bpe
from spac.sources import build_source

SIZES = {
    "tiny": dict(model=dict(layers=(1, 1, 1, 1), width=16, fpn_dim=64, image_size=(64, 32)),
                 decoder=dict(n_embd=128, n_layer=2, n_head=4), vocab=400),
    "paper": dict(model=dict(depth=101, width=64, fpn_dim=256, image_size=(384, 128)),
                  decoder=dict(n_embd=768, n_layer=12, n_head=12), vocab=50257),
}


def build(size: str, out: Path) -> CaptionerModelConfig:
    spec = SIZES[size]
    texts = ["A man with short black hair is wearing a red jacket and blue jeans.", "woman", "unknown"] * 20
    tok = train_bpe(texts, vocab_size=300)
    if spec["vocab"] > len(tok):  # pad the vocabulary so the output layer costs what the real one does
        tok.add_tokens([f"<x{i}>" for i in range(spec["vocab"] - len(tok))])
    cfg = CaptionerModelConfig(**spec["model"], styles=("cuhk", "icfg"),
                               decoder=DecoderConfig(name="config", n_positions=256, **spec["decoder"]))
    model = SpacCaptioner(cfg, build_decoder(cfg, len(tok), tok.eos_token_id)).eval()
    save_captioner(model, tok, out)
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--beams", type=int, default=1)
    ap.add_argument("--max-attribute-tokens", type=int, default=6)
    ap.add_argument("--max-caption-tokens", type=int, default=40)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 on a busy machine)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build(args.size, tmp / "ckpt")
        backend = build_backend("spac", model=str(tmp / "ckpt"), num_beams=args.beams, device=args.device,
                                max_attribute_tokens=args.max_attribute_tokens,
                                max_caption_tokens=args.max_caption_tokens)
        per_id = 4
        demo = {"identities": max(1, args.images // per_id), "images_per_identity": per_id, "seed": 0}
        kw = dict(max_attribute_tokens=args.max_attribute_tokens, max_caption_tokens=args.max_caption_tokens,
                  num_beams=args.beams)
        # the limit runs on the same (pre-decoded) images, so both decode equally long sequences
        source = build_source("demo", **demo)
        records = [r for group in source.identities() for r in group]
        t0 = time.perf_counter()
        images = torch.stack([backend.prepare(r, source.read_image(r)) for r in records])
        read_rate = len(records) / (time.perf_counter() - t0)
        predict(backend.model, backend.tokenizer, images[: args.batch_size], **kw)  # warm-up
        sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
        sync()
        t0 = time.perf_counter()
        for i in range(0, len(images), args.batch_size):
            predict(backend.model, backend.tokenizer, images[i : i + args.batch_size], **kw)
        sync()
        model_rate = len(images) / (time.perf_counter() - t0)
        summary = caption_source(backend, "demo", demo, tmp / "out", batch_size=args.batch_size,
                                 part_size=max(args.batch_size, 256), progress=False)
    params = sum(p.numel() for p in backend.model.parameters()) / 1e6
    print(f"size={args.size} ({params:.1f} M params) device={args.device} batch={args.batch_size} beams={args.beams} "
          f"max tokens attr/caption={args.max_attribute_tokens}/{args.max_caption_tokens}")
    print(f"demo source read + decode/resize alone: {read_rate:.1f} images/s")
    print(f"model alone (limit): {model_rate:.1f} images/s")
    print(f"spac caption end to end: {summary.images_per_s:.1f} images/s over {summary.images} images "
          f"({summary.errors} errors)")
    print(f"ratio caption / model-alone: {summary.images_per_s / model_rate:.2f}")


if __name__ == "__main__":
    main()
