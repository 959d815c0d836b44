"""Retrieval metrics: CMC R@k, mAP and mINP of a query set against a gallery, vectorised over query chunks.

Ranking follows IRRA's ``rank`` (anosorae/IRRA:utils/metrics.py): sort the gallery by similarity, descending;
a gallery item is relevant when its identity equals the query's. Ties are broken by gallery order (stable sort),
so the numbers equal a plain per-query loop (``reference_metrics``, kept for the tests). AP averages precision at
every relevant position; INP = (number relevant) / (position of the last relevant + 1). Queries without any
relevant gallery item are left out of every average and counted in ``skipped_queries``.
"""

from __future__ import annotations

import numpy as np
import torch

KS = (1, 5, 10)


def _as_ids(q_ids: np.ndarray, g_ids: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Identity labels of any comparable dtype (ints, strings) -> dense int64 codes shared by both sides."""
    _, codes = np.unique(np.concatenate([np.asarray(q_ids), np.asarray(g_ids)]), return_inverse=True)
    codes = torch.from_numpy(codes.astype(np.int64))
    return codes[: len(q_ids)], codes[len(q_ids) :]


def similarity(queries: torch.Tensor, gallery: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """``[Q, G]`` cosine (or dot-product) similarity."""
    if normalize:
        queries = torch.nn.functional.normalize(queries.float(), dim=1)
        gallery = torch.nn.functional.normalize(gallery.float(), dim=1)
    return queries.float() @ gallery.float().t()


def retrieval_metrics(
    queries: torch.Tensor | np.ndarray,
    gallery: torch.Tensor | np.ndarray,
    query_ids: np.ndarray,
    gallery_ids: np.ndarray,
    *,
    normalize: bool = True,
    chunk: int = 1024,
    ks: tuple[int, ...] = KS,
) -> dict[str, float]:
    """R@k (for ``ks``), mAP and mINP in percent, plus query/gallery counts.

    Args:
        queries: ``[Q, D]`` features; ``gallery``: ``[G, D]``; ``query_ids``/``gallery_ids``: ``[Q]``/``[G]``.
        normalize: cosine similarity (True, zero-shot protocol) or raw dot product.
        chunk: queries scored at once (memory ``chunk x G``).
    """
    q = torch.as_tensor(np.asarray(queries)) if isinstance(queries, np.ndarray) else queries
    g = torch.as_tensor(np.asarray(gallery)) if isinstance(gallery, np.ndarray) else gallery
    if q.shape[0] != len(query_ids) or g.shape[0] != len(gallery_ids):
        raise ValueError(f"{q.shape[0]} queries / {len(query_ids)} ids, {g.shape[0]} gallery / {len(gallery_ids)} ids")
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise ValueError(f"features must be [N, D] with equal D, got {tuple(q.shape)} and {tuple(g.shape)}")
    qid, gid = _as_ids(query_ids, gallery_ids)
    hits = torch.zeros(len(ks), dtype=torch.float64)
    ap_sum = inp_sum = 0.0
    valid = 0
    for s in range(0, q.shape[0], chunk):
        sim = similarity(q[s : s + chunk], g, normalize)
        order = torch.sort(sim, dim=1, descending=True, stable=True).indices  # ties: gallery order
        matches = gid[order] == qid[s : s + chunk, None]  # [c, G] bool, in rank order
        num_rel = matches.sum(1)
        ok = num_rel > 0
        matches, num_rel = matches[ok], num_rel[ok]
        valid += int(ok.sum())
        cum = matches.cumsum(1)
        for i, k in enumerate(ks):
            hits[i] += (cum[:, min(k, cum.shape[1]) - 1] > 0).sum()
        positions = torch.arange(1, matches.shape[1] + 1, dtype=torch.float64)
        ap_sum += float(((cum / positions) * matches).sum(1).div(num_rel).sum())
        last = matches.shape[1] - 1 - matches.flip(1).float().argmax(1)  # index of the last relevant item
        inp_sum += float((num_rel.double() / (last + 1).double()).sum())
    if valid == 0:
        raise ValueError("no query has a relevant gallery item (identities of queries and gallery do not overlap)")
    out = {f"R{k}": float(hits[i]) / valid * 100 for i, k in enumerate(ks)}
    out.update(mAP=ap_sum / valid * 100, mINP=inp_sum / valid * 100)
    out.update(queries=valid, gallery=int(g.shape[0]), skipped_queries=int(q.shape[0]) - valid)
    return out


def reference_metrics(
    queries: np.ndarray,
    gallery: np.ndarray,
    query_ids: np.ndarray,
    gallery_ids: np.ndarray,
    *,
    normalize: bool = True,
    ks: tuple[int, ...] = KS,
) -> dict[str, float]:
    """The same numbers computed one query at a time in plain Python (slow; the tests' reference)."""
    qn, gn = np.asarray(queries, np.float64), np.asarray(gallery, np.float64)
    if normalize:
        qn = qn / np.linalg.norm(qn, axis=1, keepdims=True)
        gn = gn / np.linalg.norm(gn, axis=1, keepdims=True)
    sums = {f"R{k}": 0.0 for k in ks} | {"mAP": 0.0, "mINP": 0.0}
    valid = 0
    for i in range(len(qn)):
        sims = [float(qn[i] @ gn[j]) for j in range(len(gn))]
        ranked = sorted(range(len(gn)), key=lambda j: -sims[j])  # Python's sort is stable: ties by index
        rel = [gallery_ids[j] == query_ids[i] for j in ranked]
        if not any(rel):
            continue
        valid += 1
        for k in ks:
            sums[f"R{k}"] += float(any(rel[:k]))
        found, precisions = 0, []
        for pos, r in enumerate(rel, start=1):
            if r:
                found += 1
                precisions.append(found / pos)
                last = pos
        sums["mAP"] += sum(precisions) / found
        sums["mINP"] += found / last
    return {k: v / valid * 100 for k, v in sums.items()}
