"""``plip-convert``: import the released PLIP checkpoint into our checkpoint folder format."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def convert(
    src: Path = typer.Argument(..., help="released checkpoint, e.g. PLIP_RN50.pth.tar"),
    text_model: str = typer.Option(..., "--text-model", help="folder or Hub id with the text config + tokenizer"),
    out: Path = typer.Option(..., "--out", help="output folder (config.json, model.safetensors, tokenizer)"),
    attn_heads: int = typer.Option(8, help="attention-pool heads of the released model"),
    allow_pickle: bool = typer.Option(False, help="allow full unpickling (only for files you trust)"),
) -> None:
    """Convert SRC (ImgEncoder_state_dict + TxtEncoder_state_dict) to a folder that plip-embed/plip-eval load."""
    from plip.checkpoint import load_released, save_pretrained

    console = Console(stderr=True)
    try:
        model = load_released(src, text_model, allow_pickle=allow_pickle, attn_heads=attn_heads)
    except (ValueError, FileNotFoundError, OSError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from e
    save_pretrained(model, out)
    n = sum(p.numel() for p in model.parameters())
    cfg = model.config
    console.print(
        f"wrote {out}: layers {cfg.stage_layers}, width {cfg.width}, embed {cfg.embed_dim}, "
        f"image pool {cfg.image_pool}, text pool {cfg.text_pool}, {n / 1e6:.1f} M parameters"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
