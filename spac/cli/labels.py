"""`spac labels`: a pedestrian-attribute dataset's label file -> annotation JSONL for ``spac generate --attributes``.

```
spac labels pa100k PA-100K/annotation.mat --out pa100k.jsonl
spac generate --src folder --root PA-100K/data --opt layout=single --attributes pa100k.jsonl --out shards/pa100k
spac labels peta PETA/PETA.mat --out peta.jsonl
spac labels rap RAP/RAP_annotation/RAP_annotation.mat --out rap.jsonl
spac labels market1501 market1501_attributes.json --images Market-1501/bounding_box_train --out market.jsonl
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def labels(
    dataset: Annotated[str, typer.Argument(help="pa100k, peta, rap (v1 or v2) or market1501.")],
    label_file: Annotated[Path, typer.Argument(help="The dataset's label file (.mat, or the Market JSON).")],
    out: Annotated[Path, typer.Option("--out", help="Annotation JSONL to write.")],
    images: Annotated[Path | None, typer.Option("--images", help="market1501: the image folder to expand "
                                                "identity labels over.")] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Prepended to every image name (source_ref relative "
                                        "to the --root you give spac generate).")] = "",
) -> None:
    """Map a label file's attributes into the six SPAC slots and write one JSONL line per image."""
    from rich.console import Console
    from rich.table import Table

    from spac.attribute_files import read_label_file, write_annotations
    from spac.attribute_labels import LabelError

    try:
        counts = write_annotations(read_label_file(label_file, dataset, images=images), out, prefix=prefix)
    except LabelError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    table = Table(title=f"spac labels {dataset} -> {out}")
    table.add_column("slot")
    table.add_column("images with a value", justify="right")
    n = counts.pop("images")
    for slot, k in counts.items():
        table.add_row(slot, f"{k:,} ({k / n:.0%})" if n else "0")
    Console().print(table)
    typer.echo(f"{n:,} images written to {out}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the `spac` app."""
    app.command("labels")(labels)
