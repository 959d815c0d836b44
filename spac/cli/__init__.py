"""The ``spac`` command: a thin Typer app; each command group lives in its own module and registers itself."""

from __future__ import annotations

import typer

from spac.cli import captioner, data, hub, labels, text

app = typer.Typer(no_args_is_help=True, add_completion=False, help="SPAC: build SYNTH-PEDES-style person datasets.")
for group in (data, text, labels, captioner, hub):
    group.register(app)


def main() -> None:
    app()
