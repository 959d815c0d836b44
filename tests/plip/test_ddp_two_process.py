"""Two CPU processes (gloo) through ``plip-train``: equal steps, disjoint shards, identical weights, no hang.

Launched with ``accelerate launch --multi_gpu --num_processes 2`` (``--cpu`` would silently run ONE process,
ENV.md §7); the recipe sets ``run.cpu=True`` so Accelerate picks gloo.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from plip.synthetic import write_synthetic_shards

ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_step_together(tmp_path):
    shards = write_synthetic_shards(
        tmp_path / "shards", identities=16, images_per_identity=4, shards=4, val_identities=2
    )
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [
        str(accelerate),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "29533",
        "-m",
        "plip.cli.train",
        "pipelines/demo.py:debug",
        "--shards",
        str(shards),
        "--out",
        str(out),
        "--set",
        "run.max_steps=3",
        "--set",
        "data.num_workers=1",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 process(es) x 4 samples" in proc.stdout
    logs = [json.loads((out / "data" / f"rank-{r}.json").read_text()) for r in range(2)]
    assert [log["world_size"] for log in logs] == [2, 2]
    assert logs[0]["steps"] == logs[1]["steps"] == 3
    a, b = set(logs[0]["shards"]["0"]), set(logs[1]["shards"]["0"])
    assert a and b and not a & b and len(a | b) == 4
    assert logs[0]["weights_sha256"] == logs[1]["weights_sha256"]
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
