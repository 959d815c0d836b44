"""Draw ``stats.png`` for a dataset card: attribute values per slot, images per identity, caption lengths, drops.

matplotlib is imported inside :func:`draw_stats` (a bare ``Figure`` rendered by Agg, no pyplot) so ``import spac``
stays light. The PNG carries no timestamp or software metadata, so the same build gives the same bytes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from spac.card_stats import CardStats
from spac.records import SLOTS

STATS_PNG = "stats.png"
TOP = 8  # attribute values shown per slot; the rest is one "other" bar


def _slot_bars(counter: Counter) -> tuple[list[str], list[int]]:
    known = sorted(((v, n) for v, n in counter.items() if v is not None), key=lambda x: (-x[1], x[0]))
    labels, counts = [v for v, _ in known[:TOP]], [n for _, n in known[:TOP]]
    rest = sum(n for _, n in known[TOP:])
    if rest:
        labels.append("(other)")
        counts.append(rest)
    if counter.get(None):
        labels.append("(unknown)")
        counts.append(counter[None])
    return labels, counts


def draw_stats(stats: CardStats, out: Path) -> Path:
    """Write the figure to ``out`` (a file path) and return it."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend; savefig renders with Agg
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(15, 11), dpi=72)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.93, bottom=0.05, wspace=0.55, hspace=0.35)
    grid = fig.add_gridspec(3, 4)
    for i, slot in enumerate(SLOTS):
        ax = fig.add_subplot(grid[i // 3, i % 3])
        labels, counts = _slot_bars(stats.attributes[slot])
        colors = ["tab:gray" if label == "(unknown)" else "tab:blue" for label in labels]
        ax.barh(range(len(counts)), counts, color=colors)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{slot}", fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
    ax = fig.add_subplot(grid[0, 3])
    per_id = Counter(stats.images_per_identity.values())
    ax.bar(list(per_id), list(per_id.values()), color="tab:green")
    if len(per_id) <= 12:
        ax.set_xticks(sorted(per_id))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("images per identity", fontsize=10)
    ax.set_xlabel("images", fontsize=8)
    ax.set_ylabel("identities", fontsize=8)
    ax = fig.add_subplot(grid[1, 3])
    _length_hist(ax, stats)
    ax = fig.add_subplot(grid[2, :])
    drops = stats.dropped()
    for reason, n in stats.run_ledger.items():
        drops[f"run: {reason}"] = n
    if drops:
        ax.barh(range(len(drops)), list(drops.values()), color="tab:red")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_yticks(range(len(drops)), list(drops), fontsize=8)
        ax.invert_yaxis()
    else:
        ax.text(0.5, 0.5, "no records dropped", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title("dropped records by reason", fontsize=10)
    fig.suptitle(f"spac build of source '{stats.source}': {stats.samples} samples")
    out = Path(out)
    fig.savefig(out, format="png", metadata={"Software": None})
    return out


def _length_hist(ax, stats: CardStats) -> None:
    series = [(stats.caption_words, "captions"), (stats.prompt_words, "prompt captions")]
    series = [(v, name) for v, name in series if v]
    if not series:
        ax.text(0.5, 0.5, "no captions", ha="center", va="center", transform=ax.transAxes)
    else:
        lo = min(min(v) for v, _ in series)
        hi = max(max(v) for v, _ in series)
        bins = range(lo, hi + 2)
        for values, name in series:
            ax.hist(values, bins=bins, alpha=0.6, label=name)
        ax.legend(fontsize=8)
    ax.set_title("caption length (words)", fontsize=10)
    ax.set_xlabel("words", fontsize=8)
