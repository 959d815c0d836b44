"""``caption_source``: run a captioner back-end over a source and write captioner outputs as JSONL parts.

The source's records (flattened in its deterministic identity order) are cut into parts of ``part_size``;
part ``i`` goes to ``out/part-{i:05d}.jsonl`` and belongs to process ``i % world`` (``accelerate launch``: each
process captions a disjoint slice). A part is written to a temporary name and renamed when complete, so a
part file that exists is done and a rerun skips it: an interrupted run resumes with exactly the outputs an
uninterrupted one gives. Lines (TEAM.md): ``{"source", "source_ref", "attributes", "captions", "generator",
"revision"}``, or ``{"source_ref", "error"}`` for an image that cannot be read or decoded (never fatal).
``out/run.json`` pins source, back-end and revision; resuming with different ones is refused.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spac.captioner.backends import Backend, CaptionOutput
from spac.records import PersonRecord


class CaptionRunError(RuntimeError):
    """An output folder that belongs to another run (different source, back-end or revision)."""


@dataclass
class CaptionSummary:
    out: Path
    images: int = 0
    errors: int = 0
    parts_written: int = 0
    parts_skipped: int = 0
    seconds: float = 0.0
    error_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


def part_path(out: Path, index: int) -> Path:
    return out / f"part-{index:05d}.jsonl"


def iter_parts(source, part_size: int) -> Iterator[tuple[int, list[PersonRecord]]]:
    """``(part index, records)`` over the whole source, records in source order."""
    part: list[PersonRecord] = []
    index = 0
    for group in source.identities():
        for record in group:
            part.append(record)
            if len(part) == part_size:
                yield index, part
                index, part = index + 1, []
    if part:
        yield index, part


def output_line(source: str, record: PersonRecord, out: CaptionOutput, backend: Backend) -> dict[str, Any]:
    captions = [{"text": text, "style": style, "generator": backend.name} for style, text in out.captions
                if text and text.strip()]  # an empty generation is no caption (records need non-empty text)
    return {"source": source, "source_ref": record.source_ref, "attributes": out.attributes.as_dict(),
            "captions": captions, "generator": backend.name, "revision": backend.revision}


def _check_run(out: Path, meta: dict[str, Any], rank: int) -> None:
    path = out / "run.json"
    if path.is_file():
        old = json.loads(path.read_text())
        diff = {k: (old.get(k), v) for k, v in meta.items() if old.get(k) != v}
        if diff:
            raise CaptionRunError(f"{out} holds outputs of another run ({path}: {diff}); use a new --out folder")
    elif rank == 0:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
        os.replace(tmp, path)


def caption_part(backend: Backend, source, source_name: str, records: list[PersonRecord], batch_size: int,
                 summary: CaptionSummary, tick=None) -> list[dict[str, Any]]:
    """The output lines of one part, in record order."""
    from spac.sources import ImageReadError

    lines: list[dict[str, Any] | None] = [None] * len(records)
    pending: list[tuple[int, Any]] = []

    def flush() -> None:
        outs = backend.run([records[i] for i, _ in pending], [p for _, p in pending])
        for (i, _), out in zip(pending, outs, strict=True):
            lines[i] = output_line(source_name, records[i], out, backend)
        if tick:
            tick(len(pending))
        pending.clear()

    for i, record in enumerate(records):
        try:
            image = source.read_image(record) if backend.needs_images else None
            pending.append((i, backend.prepare(record, image)))
        except ImageReadError as err:
            lines[i] = _error(record, err.reason, err, summary)
        except (ValueError, OSError) as err:
            lines[i] = _error(record, "unreadable_image", err, summary)
        if len(pending) == batch_size:
            flush()
    if pending:
        flush()
    return lines


def _error(record: PersonRecord, reason: str, err: Exception, summary: CaptionSummary) -> dict[str, Any]:
    summary.errors += 1
    summary.error_reasons[reason] = summary.error_reasons.get(reason, 0) + 1
    return {"source_ref": record.source_ref, "error": f"{reason}: {err}"}


def caption_source(backend: Backend, source_name: str, source_options: dict[str, Any], out: str | Path, *,
                   batch_size: int = 32, part_size: int = 1000, rank: int = 0, world: int = 1,
                   progress: bool = True, max_parts: int | None = None) -> CaptionSummary:
    """Caption every record of source ``source_name`` into ``out``; returns this process' summary.

    ``max_parts`` stops after writing that many parts (a deliberate interruption, for tests and dry runs).
    """
    from tqdm import tqdm

    from spac.sources import build_source

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_run(out, {"source": source_name, "options": source_options, "generator": backend.name,
                     "revision": backend.revision, "part_size": part_size}, rank)
    source = build_source(source_name, **source_options)
    summary = CaptionSummary(out=out)
    bar = tqdm(desc=f"caption[{rank}/{world}]", unit="img", disable=not progress, dynamic_ncols=True)
    start = time.perf_counter()
    for index, records in iter_parts(source, part_size):
        if index % world != rank:
            continue
        final = part_path(out, index)
        if final.exists():
            summary.parts_skipped += 1
            continue
        if max_parts is not None and summary.parts_written >= max_parts:
            break
        lines = caption_part(backend, source, source_name, records, batch_size, summary, tick=bar.update)
        summary.images += len(records)
        tmp = final.with_name(f"{final.name}.tmp-{rank}")
        with open(tmp, "w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        os.replace(tmp, final)
        summary.parts_written += 1
        summary.seconds = time.perf_counter() - start
        bar.set_postfix(parts=summary.parts_written, errors=summary.errors)
    bar.close()
    summary.seconds = time.perf_counter() - start
    return summary
