"""Recipes for the CPU demo chain (``scripts/demo.sh``) and for tests: tiny models, minutes or seconds.

``demo``: a small PLIP (ResNet (1,1,1,1) width 16 + 2-layer BERT of width 64) on the embedded demo shards at
128x64, WordPiece vocabulary trained on the shard captions, P x K identity batches, Adan with the paper's
schedule shape (warm-up, then x0.1 near the end); 260 steps, about 9 minutes on 2 cores. ``debug``: the same
shape at toy size for tests.
"""

from __future__ import annotations

from plip.config import RunConfig, TrainConfig
from plip.data import DataConfig
from plip.models import PlipConfig
from plip.optim import OptimConfig
from plip.tasks import default_task_configs, task_config


def _text_config(hidden: int, layers: int, heads: int) -> dict:
    return {
        "model_type": "bert",
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": 4 * hidden,
        "max_position_embeddings": 64,
    }


def demo() -> TrainConfig:
    """The README demo: learns zero-shot text -> image retrieval on held-out demo identities in minutes."""
    size = (128, 64)
    return TrainConfig(
        model=PlipConfig.tiny(
            image_size=size, width=16, embed_dim=64, text_config=_text_config(64, 2, 2), max_length=32
        ),
        tasks={
            **default_task_configs(),
            "identity_contrast": task_config("identity_contrast", {"form": "projection"}),
        },
        data=DataConfig(
            batch_size=64,
            images_per_identity=4,
            identity_buffer=64,
            num_workers=1,
            image_size=size,
            max_length=32,
            tokenizer=None,
            tokenizer_vocab_size=600,
        ),
        optim=OptimConfig(epochs=10, warmup_epochs=1, decay_epochs=(8,)),
        # One intra-op thread: two spinning OpenMP threads collapse (~10x) when anything else runs on the other core.
        run=RunConfig(out="demo_out/run", cpu=True, threads=1, log_every=10, save_every=100, eval_every=52),
    )


def debug() -> TrainConfig:
    """Toy size for tests: 64x32 images, batch 8, two epochs."""
    size = (64, 32)
    return TrainConfig(
        model=PlipConfig.tiny(image_size=size, max_length=16),
        data=DataConfig(
            batch_size=8,
            images_per_identity=2,
            identity_buffer=4,
            num_workers=0,
            image_size=size,
            max_length=16,
            tokenizer=None,
            tokenizer_vocab_size=200,
        ),
        optim=OptimConfig(epochs=2, warmup_epochs=0.5, decay_epochs=(1.5,)),
        run=RunConfig(out="runs/debug", cpu=True, log_every=1, save_every=0, trackers=()),
    )
