"""Evaluation: retrieval metrics (R@k, mAP, mINP), retrieval sets (held-out shards, CUHK/ICFG/RSTPReid layouts)
and the zero-shot text-to-image runner that ``plip-eval`` and the trainer's validation pass use."""

from plip.evaluation.datasets import RetrievalSet, from_layout, from_shards
from plip.evaluation.metrics import reference_metrics, retrieval_metrics
from plip.evaluation.retrieval import chance_r1, evaluate_retrieval, print_table, write_json

__all__ = [
    "RetrievalSet",
    "chance_r1",
    "evaluate_retrieval",
    "from_layout",
    "from_shards",
    "print_table",
    "reference_metrics",
    "retrieval_metrics",
    "write_json",
]
