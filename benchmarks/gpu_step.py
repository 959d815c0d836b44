"""Training-step throughput and peak memory of the PLIP objective (ModifiedResNet-50 + BERT-base, all three tasks,
Adan step included) at global batch 128/256/512 in bf16 on one GPU. Prints samples/s and peak memory per batch.

    python benchmarks/gpu_step.py                       # RN50 + BERT-base, bf16, cuda
    python benchmarks/gpu_step.py --tiny --device cpu   # a tiny model on CPU (checks the script runs)

Random weights and synthetic batches (no download): the cost of a step does not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from plip.batch import Batch
from plip.models import PlipConfig, build_model
from plip.objective import Objective
from plip.optim import OptimConfig, build_optimizer, set_lr


def model_config(tiny: bool) -> PlipConfig:
    ids = {"vocab_size": 30522, "mask_token_id": 103, "pad_token_id": 0}
    if tiny:
        return PlipConfig.tiny(
            image_size=(64, 32), **ids, text_config={**PlipConfig.tiny().text_config, "vocab_size": 30522}
        )
    bert_base = {"model_type": "bert", "vocab_size": 30522}  # BertConfig defaults = bert-base
    return PlipConfig(depth=50, image_size=(256, 128), text_model=None, text_config=bert_base, **ids)


def synthetic_batch(n: int, cfg: PlipConfig, device: str, k: int = 4) -> Batch:
    h, w = cfg.image_size
    L = cfg.max_length
    input_ids = torch.randint(1000, 30000, (n, L))
    input_ids[:, 0], input_ids[:, L // 2] = 101, 102
    attention = torch.zeros(n, L, dtype=torch.long)
    attention[:, : L // 2 + 1] = 1
    phrase_ids = torch.zeros(n, L, dtype=torch.long)
    phrase_slots = torch.full((n, L), -1, dtype=torch.long)
    for j, (a, b) in enumerate([(2, 4), (6, 9), (11, 13)], start=1):  # three attribute phrases per caption
        phrase_ids[:, a:b], phrase_slots[:, a:b] = j, j
    return Batch(
        images=torch.randint(0, 256, (n, 3, h, w), dtype=torch.uint8),
        input_ids=input_ids,
        attention_mask=attention,
        phrase_ids=phrase_ids,
        phrase_slots=phrase_slots,
        person_ids=torch.arange(n) // k,
    ).to(device)


def measure(batch_size: int, cfg: PlipConfig, device: str, dtype: torch.dtype | None, steps: int, warmup: int):
    torch.manual_seed(0)
    objective = Objective(build_model(cfg)).to(device)
    optimizer = build_optimizer(objective, OptimConfig())
    set_lr(optimizer, 1e-4)
    batch = synthetic_batch(batch_size, cfg, device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(warmup + steps):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast(device_type=device.split(":")[0], dtype=dtype, enabled=dtype is not None):
            losses = objective(batch, progress=0.5)
        losses.total.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else float("nan")
    step = sorted(times)[len(times) // 2]
    return {
        "batch": batch_size,
        "s_per_step": step,
        "samples_per_s": batch_size / step,
        "peak_gib": peak,
        "loss": float(losses.total.detach()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="tiny model (CPU smoke run)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    sizes = args.batch_sizes or ([8, 16] if args.tiny else [128, 256, 512])
    cfg = model_config(args.tiny)
    dtype = torch.bfloat16 if args.precision == "bf16" else None
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(f"device {name}; model {'tiny' if args.tiny else 'RN50 + BERT-base'} at {cfg.image_size}; {args.precision}")
    rows = []
    for n in sizes:
        try:
            row = measure(n, cfg, args.device, dtype, args.steps, args.warmup)
        except torch.OutOfMemoryError:
            row = {"batch": n, "error": "out of memory"}
            torch.cuda.empty_cache()
        rows.append(row)
        print(json.dumps(row))
    print(f"{'batch':>6} {'samples/s':>10} {'s/step':>8} {'peak GiB':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['batch']:>6} {'OOM':>10}")
        else:
            print(f"{r['batch']:>6} {r['samples_per_s']:>10.1f} {r['s_per_step']:>8.3f} {r['peak_gib']:>9.2f}")


if __name__ == "__main__":
    main()
