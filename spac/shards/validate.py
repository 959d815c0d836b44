"""Check a shard folder against its own bookkeeping: index, stats markers, ledgers and the tars' contents.

Reports (never raises for) missing or stray shards, size/sha256/count mismatches, corrupt tars, samples with the
wrong member set, records that do not parse, images that do not decode, keys out of order, ledgers that disagree
with the tar, and identities split across shards or shared between splits.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from spac.records import RecordError, from_sample
from spac.shards.layout import MEMBERS, SPLITS, ShardError, ledger_path, make_key, shard_name, stats_path
from spac.shards.ledger import KEPT, read_ledger
from spac.shards.reader import read_index
from spac.shards.tar import iter_tar_samples, sha256_file
from spac.shards.writer import read_stats


@dataclass
class ValidationReport:
    """What :func:`validate` found. ``ok`` when ``problems`` is empty."""

    shards: int = 0
    samples: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(out: Path, *, decode_images: bool = True) -> ValidationReport:
    """Validate every shard listed in ``out/index.json`` (see the module docstring for what is checked)."""
    out = Path(out)
    report = ValidationReport()
    try:
        index = read_index(out)
    except ShardError as err:
        report.problems.append(str(err))
        return report
    owner: dict[int, str] = {}  # person_id -> shard holding it
    listed: set[str] = set()
    for split in SPLITS:
        entry = index["splits"].get(split)
        for shard, info in enumerate([] if entry is None else entry["shards"]):
            listed.add(info["tar"])
            report.shards += 1
            _check_shard(out, split, shard, info, report, owner, decode_images)
    for tar in sorted(out.glob("*.tar")):
        if tar.name not in listed:
            report.problems.append(f"{tar.name}: tar on disk but not in index.json")
    return report


def _check_shard(out, split, shard, info, report, owner, decode_images) -> None:
    name = shard_name(split, shard)
    problems = report.problems
    if info["tar"] != f"{name}.tar":
        problems.append(f"index.json lists {info['tar']!r} where {name}.tar belongs")
        return
    tar = out / info["tar"]
    if not tar.is_file():
        problems.append(f"{tar.name}: missing shard")
        return
    if not stats_path(out, split, shard).is_file():
        problems.append(f"{tar.name}: stats marker {stats_path(out, split, shard).name} missing")
    else:
        stats = read_stats(out, split, shard)
        for k in ("samples", "bytes", "sha256"):
            if stats.get(k) != info[k]:
                problems.append(f"{tar.name}: stats {k}={stats.get(k)!r} but index.json says {info[k]!r}")
    size = tar.stat().st_size
    if size != info["bytes"]:
        problems.append(f"{tar.name}: {size} bytes on disk, index.json says {info['bytes']}")
    if sha256_file(tar) != info["sha256"]:
        problems.append(f"{tar.name}: sha256 differs from index.json (file changed or corrupt)")
    keys = _check_members(tar, split, shard, report, owner, decode_images)
    if keys is None:
        return
    if len(keys) != info["samples"]:
        problems.append(f"{tar.name}: {len(keys)} samples in the tar, index.json says {info['samples']}")
    report.samples += len(keys)
    lpath = ledger_path(out, split, shard)
    if not lpath.is_file():
        problems.append(f"{tar.name}: ledger {lpath.name} missing")
        return
    try:
        rows = read_ledger(lpath)
    except Exception as err:  # noqa: BLE001 -- any parquet failure is a finding, not a crash
        problems.append(f"{lpath.name}: unreadable ledger ({err})")
        return
    kept = [r.key for r in rows if r.status == KEPT]
    if kept != keys:
        problems.append(f"{tar.name}: ledger lists {len(kept)} kept keys that differ from the tar's {len(keys)} keys")
    if any(r.status != KEPT and not r.reason for r in rows):
        problems.append(f"{lpath.name}: a dropped row has no reason")


def _check_members(tar, split, shard, report, owner, decode_images) -> list[str] | None:
    problems = report.problems
    keys: list[str] = []
    last_pid = None
    try:
        for i, sample in enumerate(iter_tar_samples(tar)):
            key = sample["__key__"]
            keys.append(key)
            where = f"{tar.name}:{key}"
            if key != make_key(split, shard, i):
                problems.append(f"{where}: key out of sequence (expected {make_key(split, shard, i)})")
            members = tuple(sorted(k for k in sample if not k.startswith("__")))
            if members != MEMBERS:
                problems.append(f"{where}: members {members}, expected {MEMBERS}")
                continue
            try:
                record = from_sample(sample)
            except RecordError as err:
                problems.append(f"{where}: bad record ({err})")
                continue
            pid = record.person_id
            if pid != last_pid:
                if pid in owner:
                    problems.append(f"{where}: identity {pid} also appears in {owner[pid]} (split or not contiguous)")
                owner[pid] = f"{tar.name}"
                last_pid = pid
            if decode_images and not _decodes(sample["jpg"]):
                problems.append(f"{where}: jpg member does not decode (corrupt image)")
    except (tarfile.TarError, ValueError, OSError, EOFError) as err:
        problems.append(f"{tar.name}: corrupt tar ({err})")
        return None
    return keys


def _decodes(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
        return True
    except Exception:  # noqa: BLE001 -- PIL raises many types for broken data
        return False
