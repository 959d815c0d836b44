"""plip.evaluation: vectorised retrieval metrics == a per-query loop (ties, several gallery images per identity),
a hand-computed case, the npz CLI, and the CUHK-PEDES / RSTPReid layout readers."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from plip.cli.eval import app
from plip.evaluation import chance_r1, from_layout, reference_metrics, retrieval_metrics

KEYS = ("R1", "R5", "R10", "mAP", "mINP")


def test_hand_computed_ranking():
    # one query, gallery ranked by dot product: [id 2, id 1, id 2, id 1] -> relevant (id 1) at ranks 2 and 4
    q = np.array([[1.0, 0.0]])
    g = np.array([[4.0, 0.0], [3.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    m = retrieval_metrics(q, g, np.array([1]), np.array([2, 1, 2, 1]), normalize=False)
    assert m["R1"] == 0 and m["R5"] == 100 and m["R10"] == 100
    assert m["mAP"] == pytest.approx((1 / 2 + 2 / 4) / 2 * 100)
    assert m["mINP"] == pytest.approx(2 / 4 * 100)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_equals_reference_with_ties(seed):
    rng = np.random.default_rng(seed)
    # small integer features and duplicated rows give many exact ties; dot products are exact in float32
    g = rng.integers(-2, 3, size=(60, 6)).astype(np.float32)
    g[10:20] = g[0]  # ten gallery images identical to the first one
    g_ids = rng.integers(0, 12, size=60)
    q = rng.integers(-2, 3, size=(45, 6)).astype(np.float32)
    q_ids = rng.integers(0, 14, size=45)  # ids 12, 13 have no gallery image: skipped
    got = retrieval_metrics(q, g, q_ids, g_ids, normalize=False, chunk=7)
    want = reference_metrics(q, g, q_ids, g_ids, normalize=False)
    for k in KEYS:
        assert got[k] == pytest.approx(want[k], abs=1e-9), k
    assert got["queries"] + got["skipped_queries"] == 45 and got["gallery"] == 60


def test_cosine_matches_reference_and_chunking():
    rng = np.random.default_rng(5)
    g, q = rng.normal(size=(80, 16)), rng.normal(size=(50, 16))
    g_ids, q_ids = rng.integers(0, 10, size=80), rng.integers(0, 10, size=50)
    a = retrieval_metrics(q.astype(np.float32), g.astype(np.float32), q_ids, g_ids, chunk=3)
    b = retrieval_metrics(q.astype(np.float32), g.astype(np.float32), q_ids, g_ids, chunk=1000)
    ref = reference_metrics(q, g, q_ids, g_ids)
    for k in KEYS:
        assert a[k] == pytest.approx(b[k]) and a[k] == pytest.approx(ref[k], abs=1e-6)


def test_string_ids_and_errors():
    q, g = np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32)
    m = retrieval_metrics(q, g, np.array(["a", "b", "c"]), np.array(["a", "b", "c"]))
    assert m["R1"] == 100 and m["mAP"] == 100
    with pytest.raises(ValueError, match="no query has a relevant"):
        retrieval_metrics(q, g, np.array([1, 2, 3]), np.array([4, 5, 6]))
    assert chance_r1(np.array([1, 2]), np.array([1, 1, 2, 3])) == pytest.approx((2 / 4 + 1 / 4) / 2 * 100)


def test_cli_scores_precomputed_features(tmp_path):
    rng = np.random.default_rng(0)
    g, q = rng.normal(size=(30, 8)).astype(np.float32), rng.normal(size=(20, 8)).astype(np.float32)
    g_ids, q_ids = rng.integers(0, 5, size=30), rng.integers(0, 5, size=20)
    np.savez(tmp_path / "q.npz", features=q, ids=q_ids)
    np.savez(tmp_path / "g.npz", features=g, ids=g_ids)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(
        app,
        [
            "retrieval",
            "--query-features",
            str(tmp_path / "q.npz"),
            "--gallery-features",
            str(tmp_path / "g.npz"),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    want = reference_metrics(q, g, q_ids, g_ids)
    for k in KEYS:
        assert got[k] == pytest.approx(want[k], abs=1e-6)
    np.savez(tmp_path / "bad.npz", feats=q)
    res = CliRunner().invoke(
        app,
        ["retrieval", "--query-features", str(tmp_path / "bad.npz"), "--gallery-features", str(tmp_path / "g.npz")],
    )
    assert res.exit_code == 2 and "missing array(s) ['features', 'ids']" in res.output


def _write_images(root, names):
    from PIL import Image

    for name in names:
        (root / "imgs" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (16, 32), (10, 20, 30)).save(root / "imgs" / name)


def test_layout_readers(tmp_path):
    cuhk = tmp_path / "CUHK-PEDES"
    recs = [
        {"id": 1, "file_path": "a/1.jpg", "split": "test", "captions": ["x", "y"]},
        {"id": 2, "file_path": "a/2.jpg", "split": "test", "captions": ["z"]},
        {"id": 3, "file_path": "a/3.jpg", "split": "train", "captions": ["w"]},
    ]
    _write_images(cuhk, ["a/1.jpg", "a/2.jpg", "a/3.jpg"])
    (cuhk / "reid_raw.json").write_text(json.dumps(recs))
    rs = from_layout(cuhk, "test")
    assert rs.texts == ["x", "y", "z"] and rs.text_ids.tolist() == [1, 1, 2] and rs.image_ids.tolist() == [1, 2]
    rstp = tmp_path / "RSTPReid"
    _write_images(rstp, ["9.jpg"])
    (rstp / "data_captions.json").write_text(
        json.dumps([{"id": 9, "img_path": "9.jpg", "split": "val", "captions": ["p", "q"]}])
    )
    assert from_layout(rstp, "val").name == "rstpreid/val"
    (cuhk / "imgs" / "a" / "2.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="1 image"):
        from_layout(cuhk, "test")
    with pytest.raises(FileNotFoundError, match="ICFG-PEDES.json"):
        from_layout(tmp_path, "test")
