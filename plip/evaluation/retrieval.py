"""Zero-shot text-to-image retrieval: encode a :class:`RetrievalSet` with a model, score it, report it.

Protocol (METHOD.md §5.1, §4.3): frozen encoders, global embeddings, cosine similarity of every caption against
the whole image gallery; R@1/5/10, mAP and mINP in percent (``plip.evaluation.metrics``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from plip.evaluation.datasets import RetrievalSet
from plip.evaluation.metrics import retrieval_metrics
from plip.transforms import preprocess

METRIC_KEYS = ("R1", "R5", "R10", "mAP", "mINP")


def _progress(starts: range, total: int, batch_size: int, what: str):
    """Batch start offsets with a tqdm bar counting items (items/s, ETA) when the set is large enough to wait for."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=f"encode {what}", unit=what[:-1], disable=total < 4 * batch_size, leave=False)
    for i in starts:
        yield i
        bar.update(min(batch_size, total - i))
    bar.close()


@torch.inference_mode()
def encode_images(model: Any, images: list, batch_size: int = 128, device: str | torch.device = "cpu") -> torch.Tensor:
    """``[N, D]`` float32 global embeddings (bicubic resize to the model's size, uint8 in, normalised inside)."""
    size = tuple(model.config.image_size)
    out = []
    for i in _progress(range(0, len(images), batch_size), len(images), batch_size, "images"):
        batch = torch.stack([preprocess(src, size) for src in images[i : i + batch_size]]).to(device)
        out.append(model.encode_image(batch).embed.float().cpu())
    return torch.cat(out)


@torch.inference_mode()
def encode_texts(
    model: Any, texts: list[str], tokenizer: Any = None, batch_size: int = 256, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """``[N, D]`` float32 global caption embeddings (padded/truncated to the model's max length)."""
    tokenizer = tokenizer if tokenizer is not None else model.tokenizer
    if tokenizer is None:
        raise ValueError("the model has no tokenizer; pass one")
    out = []
    for i in _progress(range(0, len(texts), batch_size), len(texts), batch_size, "texts"):
        enc = tokenizer(
            texts[i : i + batch_size],
            padding="max_length",
            truncation=True,
            max_length=model.config.max_length,
            return_tensors="pt",
        )
        feats = model.encode_text(enc["input_ids"].to(device), enc["attention_mask"].to(device))
        out.append(feats.embed.float().cpu())
    return torch.cat(out)


def evaluate_retrieval(
    model: Any,
    data: RetrievalSet,
    *,
    tokenizer: Any = None,
    batch_size: int = 128,
    device: str | torch.device = "cpu",
    chunk: int = 1024,
    examples: str | Path | None = None,
) -> dict[str, Any]:
    """Encode ``data`` with ``model`` (put in eval mode, restored after) and score text -> image retrieval.

    With ``examples`` a PNG of the top matches of a few queries is written there (``plip.reports``)."""
    was_training = model.training
    model.eval()
    try:
        gallery = encode_images(model, data.images, batch_size, device)
        queries = encode_texts(model, data.texts, tokenizer, batch_size, device)
    finally:
        model.train(was_training)
    metrics = retrieval_metrics(queries, gallery, data.text_ids, data.image_ids, chunk=chunk)
    chance = chance_r1(data.text_ids, data.image_ids)
    if examples is not None:
        from plip.reports import plot_retrieval_examples

        q, g = F.normalize(queries, dim=-1), F.normalize(gallery, dim=-1)
        sim = (q @ g.T).numpy()
        plot_retrieval_examples(data.texts, data.text_ids, data.images, data.image_ids, sim, examples)
    return {
        "dataset": data.name,
        "task": "text-to-image",
        **metrics,
        "chance_R1": chance,
        "identities": int(len(np.unique(data.image_ids))),
    }


def chance_r1(query_ids: np.ndarray, gallery_ids: np.ndarray) -> float:
    """Expected R@1 (percent) of a random ranking: mean over queries of (relevant images) / (gallery size)."""
    ids, counts = np.unique(gallery_ids, return_counts=True)
    per_id = dict(zip(ids.tolist(), counts.tolist(), strict=True))
    rel = np.array([per_id.get(q, 0) for q in np.asarray(query_ids).tolist()], dtype=np.float64)
    rel = rel[rel > 0]
    return float(rel.mean() / len(gallery_ids) * 100) if len(rel) else 0.0


def write_json(results: dict[str, Any], out: str | Path) -> Path:
    """Write ``results`` as JSON atomically (tmp file + rename)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, out)
    return out


def print_table(results: dict[str, Any], title: str = "text-to-image retrieval") -> None:
    """A rich table of the metrics (percent) and the set's size."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title}: {results.get('dataset', '')}")
    for col in (*METRIC_KEYS, "chance R1", "queries", "gallery"):
        table.add_column(col, justify="right")
    table.add_row(
        *(f"{results[k]:.2f}" for k in METRIC_KEYS),
        f"{results['chance_R1']:.2f}" if "chance_R1" in results else "-",
        str(results.get("queries", "")),
        str(results.get("gallery", "")),
    )
    Console().print(table)
