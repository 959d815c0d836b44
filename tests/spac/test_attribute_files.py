"""spac.attribute_files / `spac labels`: PA-100K, PETA, RAP v1/v2 .mat files and Market JSON -> annotation JSONL
that `spac generate --attributes` joins; fixtures are written with scipy.io.savemat in the layouts of FORMATS.md."""

import json

import numpy as np
import pytest
import scipy.io as sio
from PIL import Image
from typer.testing import CliRunner

from spac.attribute_files import read_label_file, write_annotations
from spac.attribute_labels import LabelError
from spac.cli import app
from spac.generate import GenerateConfig, SourceConfig, generate
from spac.shards import iter_records
from spac.steps.attribute_quality import AttributeQualityConfig
from spac.steps.identity_balance import IdentityBalanceConfig


def cell(strings):
    """A MATLAB cell column of strings, as the releases store names."""
    c = np.empty((len(strings), 1), dtype=object)
    for i, s in enumerate(strings):
        c[i, 0] = s
    return c


PA_NAMES = ["Female", "Hat", "Backpack", "Trousers", "ShortSleeve"]


def write_pa100k(path):
    splits = {"train": (["000001.jpg", "000002.jpg"], [[1, 1, 0, 1, 0], [0, 0, 1, 0, 1]]),
              "val": (["000003.jpg"], [[0, 0, 0, 0, 0]]), "test": (["000004.jpg"], [[1, 0, 1, 0, 0]])}
    mat = {"attributes": cell(PA_NAMES)}
    for split, (names, labels) in splits.items():
        mat[f"{split}_images_name"] = cell(names)
        mat[f"{split}_label"] = np.array(labels, dtype=np.uint8)
    sio.savemat(path, mat)
    return path


def test_pa100k_rows_in_split_order_and_mapped(tmp_path):
    rows = dict(read_label_file(write_pa100k(tmp_path / "annotation.mat"), "pa100k"))
    assert list(rows) == ["000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg"]
    a = rows["000001.jpg"]
    assert (a.gender, a.head, a.lower, a.belongings) == ("woman", "hat", "trousers", None)
    b = rows["000002.jpg"]
    assert (b.gender, b.upper, b.belongings, b.head) == ("man", "t-shirt", "backpack", None)
    assert rows["000003.jpg"].gender == "man" and rows["000003.jpg"].upper is None  # Female = 0 says "man"


def test_peta_rows_are_named_by_index(tmp_path):
    names = ["personalMale", "upperBodyRed", "upperBodyJacket", "carryingBackpack"]
    data = np.array([[1, 0, 0, 0, 1, 1, 1, 0], [2, 0, 0, 0, 0, 0, 0, 1]], dtype=float)  # 4 metadata columns
    sio.savemat(tmp_path / "PETA.mat", {"peta": {"data": data, "attribute": cell(names)}})
    rows = dict(read_label_file(tmp_path / "PETA.mat", "peta"))
    assert list(rows) == ["00001.png", "00002.png"]
    assert (rows["00001.png"].gender, rows["00001.png"].upper) == ("man", "red jacket")
    assert (rows["00002.png"].gender, rows["00002.png"].belongings) == ("woman", "backpack")


def test_rap_v1_by_position_and_v2_by_name_uncertain_label_is_absent(tmp_path):
    names = ["Female", "hs-Hat", "attach-Backpack"]
    labels = np.array([[1, 2, 1], [0, 1, 0]], dtype=np.uint8)  # 2 = uncertain: not present
    images = ["CAM01_a.png", "CAM02_b.png"]
    v1 = {"partion": np.zeros((1, 5)), "data": labels, "attribute_chinese": cell(names),
          "attribute_eng": cell(names), "position": np.zeros((2, 4)), "imagesname": cell(images)}
    sio.savemat(tmp_path / "v1.mat", {"RAP_annotation": v1})
    v2 = {"name": cell(images), "data": labels, "attribute": cell(names), "selected_attribute": np.arange(3)}
    sio.savemat(tmp_path / "v2.mat", {"RAP_annotation": v2})
    for file in ("v1.mat", "v2.mat"):
        rows = dict(read_label_file(tmp_path / file, "rap"))
        assert list(rows) == images, file
        assert (rows["CAM01_a.png"].gender, rows["CAM01_a.png"].head) == ("woman", None), file
        assert rows["CAM01_a.png"].belongings == "backpack" and rows["CAM02_b.png"].head == "hat", file


def test_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(LabelError, match="unknown label dataset 'pa101k'"):
        read_label_file(tmp_path / "x.mat", "pa101k")
    with pytest.raises(LabelError, match="no such label file"):
        list(read_label_file(tmp_path / "missing.mat", "pa100k"))
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(LabelError, match=r"junk\.mat: not a readable MATLAB"):
        list(read_label_file(tmp_path / "junk.mat", "pa100k"))
    sio.savemat(tmp_path / "partial.mat", {"attributes": cell(PA_NAMES)})
    with pytest.raises(LabelError, match=r"partial\.mat: missing variable\(s\) \['train_images_name'"):
        list(read_label_file(tmp_path / "partial.mat", "pa100k"))
    bad = {"attributes": cell(PA_NAMES), **{f"{s}_images_name": cell(["1.jpg"]) for s in ("train", "val", "test")},
           **{f"{s}_label": np.zeros((1, 3)) for s in ("train", "val", "test")}}
    sio.savemat(tmp_path / "shape.mat", bad)
    with pytest.raises(LabelError, match=r"train_label: label matrix \(1, 3\) does not match 1 images x 5"):
        list(read_label_file(tmp_path / "shape.mat", "pa100k"))
    with pytest.raises(LabelError, match="--images"):
        list(read_label_file(write_market(tmp_path), "market1501"))


def write_market(tmp_path):
    labels = {"gender": 2, "hair": 2, "up": 1, "down": 1, "clothes": 2, "hat": 1, "backpack": 2, "bag": 1,
              "handbag": 1, "upblack": 2, "downblue": 2}
    path = tmp_path / "market.json"
    path.write_text(json.dumps({"identities": {"0002": labels}}))
    return path


def test_market_identity_labels_expand_over_the_image_folder(tmp_path):
    images = tmp_path / "bounding_box_train"
    images.mkdir()
    for name in ("0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg", "0007_c1s1_000001_01.jpg", "notes.txt"):
        (images / name).write_bytes(b"")
    rows = dict(read_label_file(write_market(tmp_path), "market1501", images=images))
    assert sorted(rows) == ["0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg"]  # 0007 has no labels
    assert rows["0002_c1s1_000451_03.jpg"].gender == "woman"
    assert rows["0002_c1s1_000451_03.jpg"].belongings == "backpack"


def test_cli_writes_jsonl_that_generate_joins(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    for k in range(1, 5):
        Image.new("RGB", (64, 128), (40 * k, 80, 120)).save(root / f"{k:06d}.jpg")
    out = tmp_path / "pa100k.jsonl"
    res = CliRunner().invoke(app, ["labels", "pa100k", str(write_pa100k(tmp_path / "annotation.mat")),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "4 images written" in res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0] == {"source_ref": "000001.jpg",
                        "attributes": {"gender": "woman", "head": "hat", "lower": "trousers"}}
    cfg = GenerateConfig(source=SourceConfig(name="folder", options={"root": str(root), "layout": "single"}),
                         attributes=str(out), identity_balance=IdentityBalanceConfig(enabled=False),
                         attribute_quality=AttributeQualityConfig(enabled=False))  # the toy labels are sparse
    generate(cfg, tmp_path / "shards", workers=1, progress=False)
    records = {r.source_ref: r for r in iter_records(tmp_path / "shards", "train")}
    assert set(records) == {"000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg"}
    assert records["000002.jpg"].attributes.belongings == "backpack"
    assert records["000001.jpg"].attributes.lower == "trousers"
    res = CliRunner().invoke(app, ["labels", "peta", str(tmp_path / "nope.mat"), "--out", str(out)])
    assert res.exit_code == 2 and "nope.mat: no such label file" in res.output


def test_write_annotations_counts_slots(tmp_path):
    rows = read_label_file(write_pa100k(tmp_path / "a.mat"), "pa100k")
    counts = write_annotations(rows, tmp_path / "sub" / "a.jsonl", prefix="data/")
    assert counts["images"] == 4 and counts["gender"] == 4 and counts["belongings"] == 2 and counts["shoes"] == 0
    assert json.loads((tmp_path / "sub" / "a.jsonl").read_text().splitlines()[1])["source_ref"] == "data/000002.jpg"
