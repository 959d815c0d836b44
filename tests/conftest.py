"""Suite-wide settings: no network, no hub retries, deterministic and small."""

import os

# A hub id must fail at once instead of after ~28 s of retries (ENV.md §2.2); tests never download.
for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")
