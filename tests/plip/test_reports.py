"""plip.reports: curves and retrieval pictures are drawn from the right numbers, and bad logs name the file."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from plip.reports import plot_retrieval_examples, plot_training_curves, read_metrics, smooth, top_matches


def test_smooth_is_a_trailing_moving_average():
    x = [1.0, 3.0, 5.0, 7.0, 9.0]
    want = [np.mean(x[max(0, i - 1) : i + 1]) for i in range(len(x))]
    assert smooth(x, 2) == pytest.approx(want)
    assert smooth(x, 3)[-1] == pytest.approx((5 + 7 + 9) / 3)
    assert smooth(x, 1) == pytest.approx(x)


def test_top_matches_ranks_best_first_and_marks_identity():
    sim = np.array([[0.1, 0.9, 0.5, 0.9], [0.3, 0.2, 0.1, 0.0]])
    got = top_matches(sim, np.array([7, 8]), np.array([8, 7, 7, 8]), queries=2, k=3)
    # query 0: 0.9 (gallery 1, id 7 = hit), 0.9 tie keeps gallery order (3, id 8), then 0.5 (2, id 7)
    assert got == [(0, [(1, True), (3, False), (2, True)]), (1, [(0, True), (1, False), (2, False)])]


def _png(color):
    buf = io.BytesIO()
    Image.new("RGB", (32, 64), color).save(buf, "PNG")
    return buf.getvalue()


def test_pictures_are_written(tmp_path):
    run = tmp_path / "run"
    (run / "eval").mkdir(parents=True)
    rows = [
        {"step": s, "lr": 1e-3, "loss": 3 - s / 10, "colorization": 1.0, "identity_contrast": 2 - s / 10,
         "samples_per_s": 50.0, "data_wait": 0.1, "identity_contrast/acc": 0.5}
        for s in range(1, 11)
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "eval" / "val-step-00000010.json").write_text(
        json.dumps({"step": 10, "R1": 20.0, "R5": 40.0, "R10": 60.0, "mAP": 25.0, "chance_R1": 5.0})
    )
    png = plot_training_curves(run)
    assert png == run / "curves.png" and Image.open(png).size[0] > 500
    sim = np.random.default_rng(0).normal(size=(4, 3))
    out = plot_retrieval_examples(
        ["a man in red"] * 4, np.array([1, 1, 2, 2]), [_png("red"), _png("blue"), _png("red")], np.array([1, 2, 1]),
        sim, tmp_path / "ex.png", queries=2, k=2,
    )
    assert Image.open(out).format == "PNG"
    with pytest.raises(ValueError, match="similarity has shape"):
        plot_retrieval_examples(["x"], np.array([1]), [_png("red")], np.array([1]), sim, tmp_path / "bad.png")


def test_bad_metrics_log_names_file_and_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="no metrics log"):
        read_metrics(tmp_path)
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n{not json\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl:2: not JSON"):
        read_metrics(tmp_path)
