"""One tiny demo build with captions and drops of several kinds, shared by test_cards.py and test_hub.py.

Built once per test session (module-level cache) because `spac generate` plus the card take a few seconds; tests
that change the folder work on a copy (:func:`copy_build`).
"""

import json
import shutil
import tarfile
from collections import Counter
from pathlib import Path

from spac.generate import GenerateConfig, ShardConfig, SourceConfig, generate
from spac.steps.identity_balance import IdentityBalanceConfig

IDENTITIES, IMAGES = 5, 6
_BUILT: dict[str, Path] = {}
PARTIAL = {"gender": "man", "upper": "red jacket", "lower": "blue jeans", "shoes": "white sneakers"}


def _captions(path: Path) -> Path:
    """Captioner JSONL: two styled captions per image; one missing ref, one error, attribute gaps, two bad lines."""
    lines = []
    for pid in range(IDENTITIES):
        for i in range(IMAGES):
            ref = f"{pid:06d}_{i:02d}"
            if (pid, i) == (0, 0):
                continue  # -> missing_captions
            if (pid, i) == (1, 1):
                lines.append(json.dumps({"source_ref": ref, "error": "timeout"}))  # -> captioner_error
                continue
            caps = [{"text": f"A person in picture {i} walks {'very ' * (i % 3)}slowly.", "style": "cuhk"},
                    {"text": f"Someone number {pid} stands still.", "style": "icfg"}]
            line = {"source": "demo", "source_ref": ref, "captions": caps, "generator": "template"}
            if pid == 4:  # captioner attributes win over the source's: two unknown slots, still kept
                line["attributes"] = {**PARTIAL, "head": None, "belongings": None}
            if (pid, i) == (3, 2):  # five unknown slots -> attribute_quality drop
                line["attributes"] = {"gender": "woman"}
            lines.append(json.dumps(line))
    lines.append("{not json")  # run ledger: malformed_json
    lines.append(json.dumps({"source_ref": "no_such_ref", "captions": [{"text": "x y"}]}))  # unknown_source_ref
    path.write_text("\n".join(lines) + "\n")
    return path


def built(tmp_path_factory) -> Path:
    """The shared build (read-only for tests): 5 identities x 6 images, 1 val identity, capped at 5 images."""
    if "out" not in _BUILT:
        import spac.sources  # noqa: F401 -- registers the demo source

        base = tmp_path_factory.mktemp("card_build")
        cfg = GenerateConfig(
            source=SourceConfig(name="demo", options={"identities": IDENTITIES, "images_per_identity": IMAGES}),
            seed=3, val_fraction=0.2, captions=str(_captions(base / "caps.jsonl")),
            shards=ShardConfig(max_samples=12, records_per_unit=12),
            identity_balance=IdentityBalanceConfig(min_images=3, max_images=5),
        )
        generate(cfg, base / "shards", workers=1, progress=False)
        _BUILT["out"] = base / "shards"
    return _BUILT["out"]


def copy_build(tmp_path_factory, tmp_path: Path) -> Path:
    out = tmp_path / "shards"
    shutil.copytree(built(tmp_path_factory), out)
    return out


def hand_count(out: Path) -> dict:
    """Counts straight from the tars' JSON members and the parquet ledgers (independent of spac.card_stats)."""
    import pyarrow.parquet as pq

    result = {"splits": {}, "drops": Counter(), "run": Counter(), "unknown": Counter(), "captions": Counter(),
              "styles": Counter(), "records": 0}
    for tar in sorted(out.glob("*.tar")):
        split = tar.name.split("-")[0]
        s = result["splits"].setdefault(split, {"shards": 0, "samples": 0, "ids": set()})
        s["shards"] += 1
        with tarfile.open(tar) as fh:
            for m in fh.getmembers():
                if m.name.endswith(".json"):
                    rec = json.loads(fh.extractfile(m).read())
                    s["samples"] += 1
                    s["ids"].add(rec["person_id"])
                    result["records"] += 1
                    result["unknown"].update(k for k, v in rec["attributes"].items() if v is None)
                    result["captions"][len(rec["captions"])] += 1
                    result["styles"].update(c["style"] for c in rec["captions"])
    for ledger in sorted((out / "meta").glob("*.parquet")):
        rows = pq.read_table(ledger).to_pylist()
        target = result["run"] if ledger.name == "run.parquet" else result["drops"]
        target.update(r["reason"] for r in rows if r["status"] != "kept")
    return result
