"""`spac` commands of the hub group: ``card`` (render a folder's dataset card) and ``publish`` (upload it).

```
spac card shards/                                  # README.md + stats.png from the build stats
spac card shards/ --template data_cards/mine.md    # first render from another template
spac publish shards/ user/my-persons --dry-run     # validate and list what would be uploaded
spac publish shards/ user/my-persons --private --revision v1
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Shards = Annotated[Path, typer.Argument(help="A finished shard folder written by `spac generate`.")]


def card(
    shards: Shards,
    template: Annotated[Path | None, typer.Option("--template", help="Template to render afresh (default: "
                                                  "update the existing card, or data_cards/default.md).")] = None,
    pretty_name: Annotated[str | None, typer.Option("--pretty-name", help="Card title (first render).")] = None,
    license_: Annotated[str | None, typer.Option("--license", help="Licence id for a first render.")] = None,
    plot: Annotated[bool, typer.Option("--plot/--no-plot", help="Draw stats.png.")] = True,
) -> None:
    """Render SHARDS/README.md (HF dataset card) and stats.png; hand edits outside the auto blocks are kept."""
    from spac.cards import CardConfig, CardError, render_card
    from spac.shards import ShardError

    try:
        path = render_card(shards, template=template, progress=True,
                           config=CardConfig(pretty_name=pretty_name, license=license_, plot=plot))
    except (CardError, ShardError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {path}" + (f" and {path.parent / 'stats.png'}" if plot else ""))


def publish(
    shards: Shards,
    repo_id: Annotated[str, typer.Argument(help="Dataset repo on the Hub, e.g. user/my-persons.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
    revision: Annotated[str | None, typer.Option("--revision", help="Branch to commit to.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and list the files; upload nothing.")] = False,
    decode: Annotated[bool, typer.Option("--decode/--no-decode", help="Decode every image when validating.")] = False,
) -> None:
    """Validate SHARDS and upload its tars, meta/, index, sizes, card and stats.png to a Hub dataset repo."""
    from spac.hub import PublishError
    from spac.hub import publish as run

    try:
        plan = run(shards, repo_id, private=private, revision=revision, dry_run=dry_run, decode_images=decode)
    except PublishError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if dry_run:
        typer.echo(f"dry run: would upload {len(plan.files)} files ({plan.bytes / 2**20:.1f} MiB) from {shards} "
                   f"to datasets/{repo_id}" + (f"@{revision}" if revision else ""))
        for path, size in plan.data + plan.card:
            typer.echo(f"  {path}  {size}")
        return
    typer.echo(f"uploaded {len(plan.files)} files ({plan.bytes / 2**20:.1f} MiB) to "
               f"https://huggingface.co/datasets/{repo_id}" + (f"/tree/{revision}" if revision else ""))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the `spac` app."""
    app.command("card")(card)
    app.command("publish")(publish)
