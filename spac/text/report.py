"""Caption statistics of a corpus, to compare synthetic captions with human ones (``spac text-report``).

Reports caption length (words), vocabulary (size, type/token ratio, most frequent words), slot fill rates (the
fraction of captions naming each of the six slots, by the extractor) and template diversity (distinct
well-formed templates mined from the corpus, per caption kept, and the entropy of the slot-set distribution).
``plot_report`` draws the same as a 2x2 matplotlib figure (PNG); ``plot_comparison`` overlays several corpora
(e.g. SPAC captions next to CUHK-PEDES) in one figure.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from spac.records import SLOTS
from spac.text.extract import attributes_from_analysis
from spac.text.mine import mine_templates
from spac.text.phrases import analyse

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def text_report(captions: list[str], *, top: int = 20) -> dict[str, Any]:
    """Statistics of ``captions`` (see the module docstring); plain JSON-able values."""
    n = len(captions)
    words = [_WORD.findall(c.lower()) for c in captions]
    lengths = sorted(len(w) for w in words)
    vocab = Counter(w for ws in words for w in ws)
    tokens = sum(vocab.values())
    filled = Counter()
    for c in captions:
        attrs = attributes_from_analysis(analyse(c))
        filled.update(s for s, v in attrs.as_dict().items() if v is not None)
    library, outcome = mine_templates(captions, style="report")
    slot_sets = Counter("+".join(t.slots) or "-" for t in library.templates for _ in range(t.count))
    total = sum(slot_sets.values())
    entropy = -sum(k / total * math.log2(k / total) for k in slot_sets.values()) if total else 0.0
    return {
        "n_captions": n,
        "length": {
            "mean": sum(lengths) / n if n else 0.0,
            "median": lengths[n // 2] if n else 0,
            "p5": lengths[int(0.05 * (n - 1))] if n else 0,
            "p95": lengths[int(0.95 * (n - 1))] if n else 0,
            "histogram": dict(sorted(Counter(lengths).items())),
        },
        "vocabulary": {
            "size": len(vocab),
            "tokens": tokens,
            "type_token_ratio": len(vocab) / tokens if tokens else 0.0,
            "top": vocab.most_common(top),
        },
        "slot_fill": {s: filled[s] / n if n else 0.0 for s in SLOTS},
        "templates": {
            "distinct": len(library.templates),
            "kept_captions": outcome["ok"],
            "distinct_per_kept": len(library.templates) / outcome["ok"] if outcome["ok"] else 0.0,
            "slot_set_entropy_bits": entropy,
            "top_slot_sets": slot_sets.most_common(8),
            "rejected": {k: v for k, v in sorted(outcome.items()) if k != "ok"},
        },
    }


def plot_report(report: dict[str, Any], path: str | Path, *, title: str = "") -> Path:
    """Write the 2x2 summary figure of ``report`` to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(2, 2, figsize=(11, 8))
    hist = report["length"]["histogram"]
    ax[0, 0].bar(list(map(int, hist)), list(hist.values()), width=1.0)
    ax[0, 0].set(
        title=f"caption length (mean {report['length']['mean']:.1f} words)", xlabel="words", ylabel="captions"
    )
    top = report["vocabulary"]["top"][:15]
    ax[0, 1].barh([w for w, _ in reversed(top)], [c for _, c in reversed(top)])
    ax[0, 1].set(title=f"vocabulary: {report['vocabulary']['size']} words, top 15")
    fill = report["slot_fill"]
    ax[1, 0].bar(list(fill), list(fill.values()))
    ax[1, 0].set(title="slot fill rate", ylim=(0, 1))
    ax[1, 0].tick_params(axis="x", labelrotation=30)
    ax[0, 1].tick_params(axis="x", labelrotation=30)
    sets = report["templates"]["top_slot_sets"]
    ax[1, 1].barh([s for s, _ in reversed(sets)], [c for _, c in reversed(sets)])
    t = report["templates"]
    ax[1, 1].set(title=f"templates: {t['distinct']} distinct\nslot-set entropy {t['slot_set_entropy_bits']:.2f} bits")
    fig.suptitle(title or f"{report['n_captions']} captions")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_comparison(reports: dict[str, dict[str, Any]], path: str | Path) -> Path:
    """Write a 2x2 figure comparing several corpora's reports (``{name: report}``) to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    reports = {Path(n).name or n: r for n, r in reports.items()}  # short labels; full paths are in the table
    names = list(reports)
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(2, 2, figsize=(12, 8))
    for name, r in reports.items():
        hist = {int(k): v for k, v in r["length"]["histogram"].items()}
        total = sum(hist.values()) or 1
        xs = sorted(hist)
        ax[0, 0].step(xs, [hist[x] / total for x in xs], where="mid", label=f"{name} (mean {r['length']['mean']:.1f})")
    ax[0, 0].set(title="caption length", xlabel="words", ylabel="fraction of captions")
    ax[0, 0].legend()
    for k, (name, r) in enumerate(reports.items()):
        slots = list(r["slot_fill"])
        ax[0, 1].bar([i + k * width for i in range(len(slots))], list(r["slot_fill"].values()), width, label=name)
        ax[0, 1].set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(slots))], slots, rotation=30)
    ax[0, 1].set(title="slot fill rate", ylim=(0, 1))
    ax[0, 1].legend()
    ax[1, 0].bar(names, [r["vocabulary"]["size"] for r in reports.values()])
    ax[1, 0].set(title="vocabulary size (words)")
    ax[1, 1].bar(names, [r["templates"]["distinct_per_kept"] for r in reports.values()])
    ax[1, 1].set(title="template diversity (distinct templates per well-formed caption)", ylim=(0, 1))
    for a in (ax[1, 0], ax[1, 1]):
        a.tick_params(axis="x", labelrotation=15)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
