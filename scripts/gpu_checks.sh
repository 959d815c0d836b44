#!/usr/bin/env bash
# The GPU checks to run when a session is lent a GPU (one call, about 6 minutes on an H100), printing one table:
#   1. benchmarks/gpu_step.py: RN50 + BERT-base objective, bf16, batch 128/256/512 -> samples/s, peak GiB
#   2. benchmarks/caption_throughput.py --size paper: SPAC captioner (ResNet-101 + GPT-2) images/s, batch 64
#   3. plip-train demo on the GPU in bf16 (a small demo set, 40 steps) -> the train loop runs on CUDA end to end
# Usage: bash scripts/gpu_checks.sh [OUT]  (default $OUT or gpu_checks/); results also as JSON lines in OUT/.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-${OUT:-gpu_checks}}"
mkdir -p "$OUT"
PY=python; [ -x .venv/bin/python ] && PY=.venv/bin/python
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== 1/3 gpu_step (bf16, 128/256/512)"
timeout 240 $PY benchmarks/gpu_step.py --device cuda --precision bf16 --batch-sizes 128 256 512 \
  | tee "$OUT/gpu_step.txt"
echo "== 2/3 caption_throughput (paper size, batch 64)"
timeout 150 $PY benchmarks/caption_throughput.py --size paper --device cuda --batch-size 64 --images 512 \
  | tee "$OUT/caption_throughput.txt"
echo "== 3/3 plip-train demo on the GPU, bf16, 40 steps"
timeout 120 $PY -m spac.cli generate --src demo --opt identities=120 --out "$OUT/shards" --val-fraction 0.1 \
  --workers 4 --quiet >/dev/null
timeout 240 $PY -m plip.cli.train demo --shards "$OUT/shards" --out "$OUT/run" --set run.cpu=False \
  --set run.precision=bf16 --set run.threads=None --set run.max_steps=40 --set data.num_workers=4 \
  | tail -n 12 | tee "$OUT/train.txt"
echo "== summary"
grep -h -E "^ *(batch|[0-9]+ )" "$OUT/gpu_step.txt" || true
grep -h -E "images/s|ratio" "$OUT/caption_throughput.txt" || true
grep -h -E "^step 40/|samples/s" "$OUT/train.txt" | tail -n 2 || true
