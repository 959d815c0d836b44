#!/usr/bin/env bash
# The README main job, on CPU in minutes: embedded demo people -> spac shards (10 % of the identities held out as
# `val`) -> plip-train (recipe pipelines/demo.py:demo) -> plip-eval zero-shot text -> image retrieval on the
# held-out identities. Prints the table and writes it as JSON to $DEMO_OUT/eval.json (default demo_out/eval.json).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${DEMO_OUT:-demo_out}"
if ! command -v plip-train >/dev/null 2>&1 && [ -x .venv/bin/plip-train ]; then
  PATH="$PWD/.venv/bin:$PATH"  # not activated: use the project's venv
fi
# Everything is local: fail fast instead of retrying the Hub; tokenizers must not fork-bomb the two cores.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
start=$(date +%s)

echo "== 1/3 spac generate --src demo -> $OUT/shards"
spac generate --src demo --out "$OUT/shards" --val-fraction 0.1 --workers 2 --quiet

echo "== 2/3 plip-train demo -> $OUT/run"
rm -rf "$OUT/run"
plip-train demo --shards "$OUT/shards" --out "$OUT/run"

echo "== 3/3 plip-eval retrieval on the held-out identities"
plip-eval retrieval --model "$OUT/run/model" --shards "$OUT/shards" --split val --out "$OUT/eval.json"

echo "demo finished in $(( $(date +%s) - start )) s; results in $OUT/eval.json"
