"""Extraction speed: captions per second on one core (target >= 5,000; issue 3).

Runs ``extract_spans`` and ``extract_attributes`` over the CUHK-PEDES validation captions of the shared devdata
(or, without it, captions rendered from random attributes), in this single process, after one warm-up pass.
Timings on a shared machine are noisy: the best of ``--repeats`` passes is reported.
Usage: ``python benchmarks/extraction_speed.py [--captions FILE] [--repeats 3] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from spac.records import Attributes
from spac.text.extract import extract_attributes, extract_spans
from spac.text.render import render_prompt

DEVDATA = Path(__file__).resolve().parents[1].parent / "shared" / "devdata" / "cuhk_pedes_val.json"
TARGET = 5000.0


def load_captions(path: Path | None) -> tuple[list[str], str]:
    if path is not None and path.is_file():
        records = json.loads(path.read_text(encoding="utf-8"))
        return [c for r in records for c in r.get("captions") or [] if isinstance(c, str)], str(path)
    rng = random.Random(0)
    colours = ["black", "white", "red", "blue", "gray", "dark blue", "light-colored"]
    caps = []
    for i in range(5000):
        a = Attributes(
            gender=rng.choice(["man", "woman"]),
            head="short black hair",
            upper=f"{rng.choice(colours)} jacket",
            lower=f"{rng.choice(colours)} jeans",
            shoes=f"{rng.choice(colours)} sneakers",
            belongings=rng.choice([None, "black backpack"]),
        )
        caps.append(render_prompt(a, seed=i).text)
    return caps, "rendered prompts (devdata absent)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--captions", type=Path, default=DEVDATA)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    captions, origin = load_captions(args.captions)
    for c in captions[:500]:  # warm-up: lexicon compilation, caches
        extract_attributes(c)
    rates, wall = {}, {}
    for name, fn in (("extract_spans", extract_spans), ("extract_attributes", extract_attributes)):
        best_cpu = best_wall = float("inf")
        for _ in range(args.repeats):
            start, cpu = time.perf_counter(), time.process_time()
            for c in captions:
                fn(c)
            best_cpu = min(best_cpu, time.process_time() - cpu)
            best_wall = min(best_wall, time.perf_counter() - start)
        rates[name] = len(captions) / best_cpu  # per core: CPU seconds of this single-threaded process
        wall[name] = len(captions) / best_wall
    result = {
        "n_captions": len(captions),
        "source": origin,
        "target_per_core": TARGET,
        **{f"{k}_per_cpu_s": v for k, v in rates.items()},
        **{f"{k}_per_wall_s": v for k, v in wall.items()},
        "ratio": min(rates.values()) / TARGET,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{len(captions)} captions from {origin}, one process, best of {args.repeats}")
        for k, v in rates.items():
            print(
                f"  {k:<20} {v:10,.0f} captions/CPU-s ({wall[k]:,.0f}/wall-s)  ratio vs {TARGET:,.0f}: "
                f"{v / TARGET:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
