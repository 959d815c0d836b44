"""``plip-eval``: evaluate models or precomputed features (thin; the work is in ``plip.evaluation``).

``plip-eval retrieval`` scores zero-shot text -> image retrieval (R@1/5/10, mAP, mINP in percent) of
  * a model folder (``--model``, written by plip-train or plip-convert) on held-out shards (``--shards --split``)
    or on a CUHK-PEDES / ICFG-PEDES / RSTPReid folder (``--dataset --split [--layout]``), or
  * precomputed features: ``--query-features Q.npz --gallery-features G.npz`` (each with ``features`` N x D and
    ``ids`` N), so any model can be compared with the same metrics.
It prints a table and writes the JSON to ``--out`` (for a model, also ``<out>_examples.png``: the top matches of
a few queries).
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Evaluation commands."""


def _load_npz(path: Path, what: str):
    import numpy as np

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what} file")
    with np.load(path, allow_pickle=False) as data:
        missing = {"features", "ids"} - set(data.files)
        if missing:
            raise ValueError(f"{path}: missing array(s) {sorted(missing)} (has {data.files})")
        features, ids = data["features"], data["ids"]
    if features.ndim != 2 or ids.shape != (features.shape[0],):
        raise ValueError(f"{path}: features must be N x D and ids N, got {features.shape} and {ids.shape}")
    return features.astype("float32"), ids


@app.command()
def retrieval(
    model: Path | None = typer.Option(None, "--model", help="model folder (plip-train run/model, plip-convert)"),
    shards: Path | None = typer.Option(None, "--shards", help="spac shard folder with a held-out split"),
    dataset: Path | None = typer.Option(None, "--dataset", help="CUHK-PEDES / ICFG-PEDES / RSTPReid folder"),
    layout: str | None = typer.Option(None, "--layout", help="cuhk-pedes, icfg-pedes or rstpreid (default: detect)"),
    split: str = typer.Option("val", "--split", help="split to evaluate (shards: val; datasets: test)"),
    texts: str = typer.Option("captions", "--texts", help="shard queries: captions, all (with prompt) or prompt"),
    query_features: Path | None = typer.Option(None, "--query-features", help="npz with features, ids (texts)"),
    gallery_features: Path | None = typer.Option(None, "--gallery-features", help="npz with features, ids (images)"),
    out: Path | None = typer.Option(None, "--out", help="write the results JSON here"),
    batch_size: int = typer.Option(128, "--batch-size"),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1, ..."),
) -> None:
    """Zero-shot text -> image retrieval metrics."""
    from plip.evaluation import print_table, retrieval_metrics, write_json

    try:
        if query_features is not None or gallery_features is not None:
            if query_features is None or gallery_features is None:
                raise ValueError("give both --query-features and --gallery-features")
            q, q_ids = _load_npz(query_features, "query features")
            g, g_ids = _load_npz(gallery_features, "gallery features")
            results = {
                "dataset": f"{query_features.name} vs {gallery_features.name}",
                "task": "text-to-image",
                **retrieval_metrics(q, g, q_ids, g_ids),
            }
        else:
            results = _evaluate_model(model, shards, dataset, layout, split, texts, batch_size, device, out)
    except (FileNotFoundError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    print_table(results)
    if out is not None:
        write_json(results, out)
        typer.echo(f"wrote {out}")


def _evaluate_model(model_dir, shards, dataset, layout, split, texts, batch_size, device, out=None):
    import torch

    from plip.checkpoint import load_pretrained
    from plip.evaluation import evaluate_retrieval, from_layout, from_shards

    if model_dir is None or (shards is None) == (dataset is None):
        raise ValueError("give --model and exactly one of --shards / --dataset (or the two --*-features files)")
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    data = from_shards(shards, split, texts) if shards is not None else from_layout(dataset, split, layout)
    net = load_pretrained(model_dir, map_location=dev)
    pictures = None if out is None else out.with_name(out.stem + "_examples.png")
    results = evaluate_retrieval(net, data, batch_size=batch_size, device=dev, examples=pictures)
    extra = {} if pictures is None else {"examples_png": str(pictures)}
    return {**results, "model": str(model_dir), **extra}


def main() -> None:
    app()


if __name__ == "__main__":
    main()
