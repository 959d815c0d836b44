"""``plip-embed``: global embeddings of a folder of images or a file of texts, as the model computes them.

Rows follow sorted file names (images) or the lines of the file (texts); embeddings are not normalised.
Preprocessing is the released one: bicubic resize to the model's size, its mean/std, max length from its config.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer
from rich.console import Console

if TYPE_CHECKING:
    from plip.models import Plip

app = typer.Typer(add_completion=False, help=__doc__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by file name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.name
    )


def embed_images(
    model: Plip, paths: list[Path], batch_size: int = 32, device: str = "cpu", progress: bool = True
) -> np.ndarray:
    """``[N, D]`` float32 global image embeddings of ``paths`` (in that order)."""
    import torch
    from tqdm import tqdm

    from plip.transforms import preprocess

    size = model.config.image_size
    rows = []
    with torch.inference_mode(), tqdm(total=len(paths), unit="img", disable=not progress) as bar:
        for i in range(0, len(paths), batch_size):
            chunk = paths[i : i + batch_size]
            images = torch.stack([preprocess(p, size) for p in chunk]).to(device)
            rows.append(model.encode_image(images).embed.float().cpu().numpy())
            bar.update(len(chunk))
    return np.concatenate(rows) if rows else np.zeros((0, model.embed_dim), np.float32)


def embed_texts(
    model: Plip, texts: list[str], batch_size: int = 64, device: str = "cpu", progress: bool = True
) -> np.ndarray:
    """``[N, D]`` float32 global text embeddings (padding to the model's max length, truncation)."""
    import torch
    from tqdm import tqdm

    if model.tokenizer is None:
        raise ValueError("the model folder has no tokenizer files")
    rows = []
    with torch.inference_mode(), tqdm(total=len(texts), unit="text", disable=not progress) as bar:
        for i in range(0, len(texts), batch_size):
            chunk = texts[i : i + batch_size]
            enc = model.tokenizer(
                chunk, padding="max_length", truncation=True, max_length=model.config.max_length, return_tensors="pt"
            )
            out = model.encode_text(enc["input_ids"].to(device), enc["attention_mask"].to(device))
            rows.append(out.embed.float().cpu().numpy())
            bar.update(len(chunk))
    return np.concatenate(rows) if rows else np.zeros((0, model.embed_dim), np.float32)


@app.command()
def embed(
    model_dir: Path = typer.Option(..., "--model", help="folder written by plip-convert or training"),
    images: Path | None = typer.Option(None, "--images", help="folder of images (rows in sorted file-name order)"),
    texts: Path | None = typer.Option(None, "--texts", help="UTF-8 text file, one caption per line"),
    out: Path = typer.Option(..., "--out", help="output .npy file, float32 [N, D]"),
    batch_size: int = typer.Option(32, help="batch size"),
    device: str = typer.Option("auto", help="'auto', 'cpu', 'cuda', 'cuda:1', ..."),
) -> None:
    """Write the global embeddings of --images or --texts to --out."""
    import torch

    from plip.checkpoint import load_pretrained

    console = Console(stderr=True)
    if (images is None) == (texts is None):
        console.print("[red]error:[/red] give exactly one of --images FOLDER or --texts FILE")
        raise typer.Exit(2)
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    try:
        model = load_pretrained(model_dir, map_location=dev).eval()
        start = time.perf_counter()
        if images is not None:
            paths = list_images(images)
            if not paths:
                raise FileNotFoundError(f"{images}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
            result, what = embed_images(model, paths, batch_size, dev), "images"
        else:
            lines = texts.read_text(encoding="utf-8").splitlines()
            result, what = embed_texts(model, lines, batch_size, dev), "texts"
    except (ValueError, FileNotFoundError, OSError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from e
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, result.astype(np.float32))
    elapsed = time.perf_counter() - start
    console.print(
        f"wrote {out}: {result.shape[0]} {what} x {result.shape[1]} dims in {elapsed:.1f} s "
        f"({result.shape[0] / max(elapsed, 1e-9):.1f}/s)"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
