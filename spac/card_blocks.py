"""The auto-filled blocks of a dataset card: one function per block name, each turning :class:`CardStats` into Markdown.

:mod:`spac.cards` puts each block's text between ``<!-- spac:auto:NAME -->`` and ``<!-- /spac:auto:NAME -->``;
text outside the markers belongs to the user. Block functions are pure (same stats, same text).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from spac.card_stats import CardStats, length_summary
from spac.records import SLOTS, UNKNOWN

HF_SPLIT = {"train": "train", "val": "validation"}  # HF's split name for each spac split
TOP_VALUES = 6


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "-"


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def summary(stats: CardStats) -> str:
    rows = [[name, s.shards, s.samples, s.identities, s.input_records, sum(s.dropped.values()), _mib(s.bytes)]
            for name, s in stats.splits.items()]
    splits = list(stats.splits.values())
    rows.append(["**total**", *(sum(getattr(s, f) for s in splits)
                                for f in ("shards", "samples", "identities", "input_records")),
                 sum(sum(s.dropped.values()) for s in splits), _mib(sum(s.bytes for s in splits))])
    options = json.dumps(stats.options, sort_keys=True, ensure_ascii=False)
    return (f"Built by `spac generate` from source **`{stats.source}`** with options `{options}`, seed "
            f"`{stats.seed}`, val fraction `{stats.config.get('val_fraction', 0.0)}`.\n"
            f"Config sha256 `{stats.config_sha256}` (the full config is in `index.json`).\n\n"
            + _table(["split", "shards", "samples", "identities", "input records", "dropped", "MiB"], rows))


def drops(stats: CardStats) -> str:
    reasons = stats.dropped()
    text = ("Every input record is in a ledger `meta/<split>-NNNNNN.parquet` (one row per input record, kept or "
            "dropped, with the reason).\n\n")
    if not reasons:
        text += "No input record was dropped."
    else:
        header = ["reason", *stats.splits, "total"]
        rows = [[r, *(s.dropped.get(r, 0) for s in stats.splits.values()), n] for r, n in reasons.items()]
        text += _table(header, rows)
    if stats.run_ledger:
        text += ("\n\nRun ledger `meta/run.parquet` (join inputs that matched no record or could not be read):\n\n"
                 + _table(["reason", "rows"], [[r, n] for r, n in stats.run_ledger.items()]))
    return text


def attributes(stats: CardStats) -> str:
    rows = []
    for slot in SLOTS:
        counter: Counter = stats.attributes[slot]
        total = sum(counter.values())
        known = sorted(((v, n) for v, n in counter.items() if v is not None), key=lambda x: (-x[1], x[0]))
        top = ", ".join(f"{v} ({_pct(n, total)})" for v, n in known[:TOP_VALUES])
        rows.append([slot, _pct(counter.get(None, 0), total), len(known), top or "-"])
    return ("Attribute values per slot over all samples (`unknown` = slot is null in the record).\n\n"
            + _table(["slot", "unknown", "distinct values", f"top {TOP_VALUES} values (share of samples)"], rows))


def _lengths(name: str, values: list[int]) -> list[object]:
    s = length_summary(values)
    if s is None:
        return [name, 0, "-", "-", "-", "-", "-", "-"]
    return [name, len(values), s["min"], s["p5"], s["median"], f"{s['mean']:.1f}", s["p95"], s["max"]]


def captions(stats: CardStats) -> str:
    n = sum(stats.captions_per_image.values())
    per_image = ", ".join(f"{k}: {_pct(v, n)}" for k, v in sorted(stats.captions_per_image.items()))
    styles = ", ".join(f"`{k}` {v}" for k, v in sorted(stats.styles.items())) or "none"
    generators = ", ".join(f"`{k}` {v}" for k, v in sorted(stats.generators.items())) or "none"
    ids = sorted(stats.images_per_identity.values())
    per_id = (f"{ids[0]} min, {ids[len(ids) // 2]} median, {sum(ids) / len(ids):.1f} mean, {ids[-1]} max"
              if ids else "-")
    return (f"- captions per image: {per_image or '-'}\n- caption styles: {styles}\n"
            f"- caption generators: {generators}\n- images per identity: {per_id}\n\n"
            "Length in words (whitespace tokens):\n\n"
            + _table(["text", "count", "min", "p5", "median", "mean", "p95", "max"],
                     [_lengths("captions", stats.caption_words), _lengths("prompt captions", stats.prompt_words)]))


def examples(stats: CardStats) -> str:
    if not stats.examples:
        return "No records."
    parts = []
    for rec in stats.examples:
        attrs = rec.get("attributes") or {}
        lines = [f"**`{rec['key']}`** (person {rec['person_id']}, `{rec['source']}`)",
                 f"- attributes: `{','.join(attrs.get(s) or UNKNOWN for s in SLOTS)}`"]
        lines += [f"- caption [{c.get('style', 'default')}]: {c['text']}" for c in rec.get("captions") or []]
        prompt = rec.get("prompt_caption")
        if prompt is not None:
            lines.append(f"- prompt caption [{prompt['template_id']}]: {prompt['text']}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def figure(stats: CardStats) -> str:
    return ("![Attribute values per slot, images per identity, caption lengths and drops by reason](stats.png)")


def loading(stats: CardStats) -> str:
    n = {name: s.shards for name, s in stats.splits.items()}
    first = next(iter(n), "train")
    urls = f"{first}-{{000000..{n.get(first, 1) - 1:06d}}}.tar" if n.get(first, 1) > 1 else f"{first}-000000.tar"
    hf = HF_SPLIT.get(first, first)
    return (
        f"Each sample is `<key>.jpg` (image), `<key>.json` (record, schema `spac/1`) and `<key>.txt` (first caption). "
        f"The front matter's `configs` map the splits to the tars "
        f"({', '.join(f'`{HF_SPLIT[s]}`: `{s}-*.tar`' for s in n)}).\n\n"
        "```python\n"
        "# Hugging Face datasets (a local copy of this folder or the Hub repo id)\n"
        "import datasets\n"
        f'ds = datasets.load_dataset("<folder or user/repo>", split="{hf}", streaming=True)\n\n'
        "# webdataset\n"
        "import webdataset as wds\n"
        f'ds = wds.WebDataset("{urls}", shardshuffle=False).decode("pil")\n\n'
        "# spac's reader (typed PersonRecord with spans)\n"
        "from spac.shards import iter_records\n"
        f'for record in iter_records("<folder>", "{first}"):\n'
        "    print(record.attributes.to_string(), record.texts())\n"
        "```\n\n"
        "Check a downloaded copy with `spac validate <folder>`."
    )


def provenance(stats: CardStats) -> str:
    if stats.source == "demo":
        origin = ("The images and their attributes are **synthetic**: drawn procedurally by spac's `demo` source "
                  "(no photographs of real people, no third-party data). Meant for tests and tutorials.")
        if stats.config.get("captions") or stats.config.get("attributes"):
            origin += (" Captions/attributes joined from captioner or annotation files keep the licence of the "
                       "model or data that produced them.")
    else:
        origin = (f"The images (and any source annotations) come from the source `{stats.source}`; attributes and "
                  "captions may come from annotation files and captioning models given to `spac generate`. "
                  "**The licences and terms of use of the source datasets and models apply to this derived "
                  "dataset; checking them and setting `license` in the front matter is the publisher's "
                  "responsibility.** Person images may be personal data: respect the source's terms on "
                  "redistribution and use (typically non-commercial research only).")
    return origin + ("\n\nPer-record provenance (where the attributes and captions came from) is in each record's "
                     "`provenance` field; the build config is in `index.json`.")


BLOCKS: dict[str, Callable[[CardStats], str]] = {
    "summary": summary,
    "drops": drops,
    "attributes": attributes,
    "captions": captions,
    "examples": examples,
    "figure": figure,
    "loading": loading,
    "provenance": provenance,
}
