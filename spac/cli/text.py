"""`spac` commands of the text group: ``mine`` (template library from a caption corpus) and ``text-report``.

```
spac mine CUHK-PEDES/reid_raw.json --style cuhk --out templates/cuhk.json
spac text-report captions/ --plot report.png          # also: --json
spac text-report spac_captions/ CUHK-PEDES/reid_raw.json --plot compare.png   # side by side
```
A mined library is used by ``render_prompt(style="cuhk")`` once its folder is on ``$SPAC_TEMPLATES`` (or pass
the ``.json`` path as the style).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

Corpus = Annotated[
    Path,
    typer.Argument(
        help="Caption corpus: reid_raw.json / ICFG / RSTPReid / SYNTH-PEDES "
        "JSON, a JSONL file or a folder of *.jsonl parts."
    ),
]


def _read(corpus: Path):
    from spac.text.corpus import CorpusError, read_corpus

    try:
        data = read_corpus(corpus)
    except CorpusError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if not data.captions:
        typer.echo(f"error: {corpus}: no usable captions ({dict(data.skipped) or 'empty corpus'})", err=True)
        raise typer.Exit(2)
    return data


def mine(
    corpus: Corpus,
    style: Annotated[str, typer.Option("--style", help="Style name of the library (e.g. cuhk, icfg).")],
    out: Annotated[Path, typer.Option("--out", help="Library file to write (.json).")],
    min_slots: Annotated[int, typer.Option("--min-slots", min=1, help="Placeholders a template needs.")] = 2,
    min_word_count: Annotated[
        int, typer.Option("--min-word-count", min=0, help="Drop templates with rarer words (typos); 0 = off.")
    ] = 2,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger",
            help="Write one JSONL line per caption that is skipped or not kept as a template: ref and reason.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Mine a template library (slot placeholders, normalised pronouns, deduplicated, filtered) from captions."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from spac.text.mine import MineConfig, mine_templates
    from spac.text.templates import save_library

    data = _read(corpus)
    cfg = MineConfig(min_slots=min_slots, min_word_count=min_word_count)
    start = time.perf_counter()
    with Progress(
        TextColumn("mining"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        disable=quiet,
    ) as bar:
        task = bar.add_task("mine", total=len(data.captions), rate="")

        def advance(k: int) -> None:
            done = bar.tasks[0].completed + k
            bar.update(task, advance=k, rate=f"{done / max(time.perf_counter() - start, 1e-9):,.0f} captions/s")

        source = {"corpus": corpus.name, "layout": data.layout, "skipped": dict(data.skipped)}
        reasons: list[str] = []
        library, outcome = mine_templates(
            data.captions, style=style, cfg=cfg, source=source, progress=advance, reasons=reasons
        )
    save_library(library, out)
    if ledger is not None:
        ledger.parent.mkdir(parents=True, exist_ok=True)
        with ledger.open("w", encoding="utf-8") as fh:
            for ref, reason in data.ledger:
                fh.write(json.dumps({"ref": ref, "reason": reason, "stage": "read"}) + "\n")
            for ref, reason in zip(data.refs, reasons, strict=True):
                if reason != "ok":
                    fh.write(json.dumps({"ref": ref, "reason": reason, "stage": "template"}) + "\n")
    console = Console()
    table = Table(title=f"spac mine: {corpus} -> {out}")
    table.add_column("outcome")
    table.add_column("captions", justify="right")
    for reason, n in outcome.most_common():
        table.add_row("kept" if reason == "ok" else f"rejected: {reason}", str(n))
    for reason, n in data.skipped.most_common():
        table.add_row(f"skipped (ledger): {reason}", str(n))
    console.print(table)
    gendered = sum(t.gendered for t in library.templates)
    console.print(
        f"{len(library.templates)} distinct templates ({gendered} gendered, "
        f"{len(library.templates) - gendered} neutral) from {len(data.captions)} captions "
        f"in {time.perf_counter() - start:.1f}s"
    )


def text_report(
    corpora: Annotated[
        list[Path],
        typer.Argument(
            help="One or more caption corpora (layouts as for `spac mine`); several are compared side by side."
        ),
    ],
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the summary figure (PNG) here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
) -> None:
    """Caption length, vocabulary, slot fill rates and template diversity of caption corpora (compare synthetic
    captions with human ones by giving both)."""
    from rich.console import Console
    from rich.table import Table

    from spac.text.report import plot_comparison, plot_report
    from spac.text.report import text_report as make_report

    reports = {}
    for corpus in corpora:
        data = _read(corpus)
        reports[str(corpus)] = make_report(data.captions) | {"skipped": dict(data.skipped)}
    if plot is not None:
        if len(reports) == 1:
            plot_report(next(iter(reports.values())), plot, title=str(corpora[0]))
        else:
            plot_comparison(reports, plot)
    if as_json:
        typer.echo(json.dumps(reports[str(corpora[0])] if len(reports) == 1 else reports))
        return
    table = Table(title="spac text-report")
    table.add_column("")
    for name in reports:
        table.add_column(name, overflow="fold")
    for label, cell in _ROWS:
        table.add_row(label, *(cell(r) for r in reports.values()))
    console = Console()
    console.print(table)
    if plot is not None:
        console.print(f"figure: {plot}")


_ROWS = (
    ("captions", lambda r: f"{r['n_captions']} (skipped: {r['skipped'] or 0})"),
    (
        "length (words)",
        lambda r: (
            f"mean {r['length']['mean']:.1f}, median {r['length']['median']}, "
            f"p5 {r['length']['p5']}, p95 {r['length']['p95']}"
        ),
    ),
    ("vocabulary", lambda r: f"{r['vocabulary']['size']} words, type/token {r['vocabulary']['type_token_ratio']:.3f}"),
    ("top words", lambda r: ", ".join(w for w, _ in r["vocabulary"]["top"][:12])),
    ("slot fill", lambda r: ", ".join(f"{s} {v:.2f}" for s, v in r["slot_fill"].items())),
    (
        "templates",
        lambda r: (
            f"{r['templates']['distinct']} distinct from {r['templates']['kept_captions']} "
            f"well-formed captions, slot-set entropy {r['templates']['slot_set_entropy_bits']:.2f} bits"
        ),
    ),
)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the `spac` app."""
    app.command("mine")(mine)
    app.command("text-report")(text_report)
