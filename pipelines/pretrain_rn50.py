"""The paper's PLIP RN50 pre-training recipe (METHOD.md §4.1).

256x128 bicubic + horizontal flip, SYNTH-PEDES mean/std, global batch 512, 70 epochs, Adan lr 2e-3 (BERT x 0.1,
betas 0.98/0.92/0.99, weight decay 0.02), warm-up 10 epochs, x0.1 at epochs 30 and 50, loss IVLC + 0.02 TIC +
0.1 IAP (mask ratio 0.2 -> 0.8 along sqrt), BERT-base with layers 8-11 trainable, max length 64, mixed precision.
Batches are P x K identity batches (K = 4), a re-implementer's choice (METHOD.md §3.3).
"""

from __future__ import annotations

from plip.config import RunConfig, TrainConfig
from plip.data import DataConfig
from plip.models import PlipConfig
from plip.optim import OptimConfig
from plip.tasks import default_task_configs


def pretrain_rn50() -> TrainConfig:
    return TrainConfig(
        model=PlipConfig(depth=50, image_size=(256, 128), text_model="bert-base-uncased", max_length=64),
        tasks=default_task_configs(),
        data=DataConfig(
            batch_size=512,
            images_per_identity=4,
            identity_buffer=512,
            num_workers=8,
            image_size=(256, 128),
            resample="bicubic",
            flip=0.5,
            max_length=64,
            tokenizer="bert-base-uncased",
        ),
        optim=OptimConfig(
            name="adan",
            lr=2e-3,
            text_lr_scale=0.1,
            betas=(0.98, 0.92, 0.99),
            weight_decay=0.02,
            epochs=70,
            warmup_epochs=10,
            decay_epochs=(30, 50),
            decay_factor=0.1,
        ),
        run=RunConfig(out="runs/pretrain_rn50", precision="bf16", log_every=50, save_every=2000, eval_every=5000),
    )
