"""cuhk-pedes / icfg-pedes / rstpreid: the three caption-corpus layouts, splits, styles and bad records."""

import json
from pathlib import Path

import pytest

from spac.sources import ImageReadError, SourceError, build_source

DEVDATA_CUHK = Path(__file__).resolve().parents[3] / "shared" / "devdata" / "cuhk_pedes_val.json"

RECORDS = [
    {"split": "train", "captions": ["A man in a red coat.", "He carries a bag."], "file_path": "CUHK01/0107002.png",
     "processed_tokens": [["a"], ["b"]], "id": 12},
    {"split": "test", "captions": ["A woman in blue."], "file_path": "Market/0002_c1s1_000451_03.jpg", "id": 3},
    {"split": "train", "captions": ["Another view of the man.", "   "], "file_path": "cam_a/001_45.jpg", "id": 12},
]


def _dataset(root: Path, name: str, records, *, path_key="file_path"):
    rows = []
    for record in records:
        if not isinstance(record, dict):
            rows.append(record)
            continue
        row = dict(record)
        if path_key != "file_path" and "file_path" in row:
            row[path_key] = row.pop("file_path")
        rows.append(row)
        rel = record.get("file_path")
        if isinstance(rel, str):
            path = root / "imgs" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            magic = b"\x89PNG\r\n\x1a\n" if rel.endswith(".png") else b"\xff\xd8\xff"
            path.write_bytes(magic + rel.encode())
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(json.dumps(rows))
    return root


def _summary(source):
    return [[(r.source_ref, r.person_id, [c.text for c in r.captions]) for r in g] for g in source.identities()]


def test_cuhk_layout_groups_by_id_and_keeps_captions(tmp_path):
    root = _dataset(tmp_path / "CUHK-PEDES", "reid_raw.json", RECORDS)
    source = build_source("cuhk-pedes", root=str(root))
    assert _summary(build_source(source.name, **source.options)) == _summary(source)
    assert _summary(source) == [
        [("CUHK01/0107002.png", 12, ["A man in a red coat.", "He carries a bag."]),
         ("cam_a/001_45.jpg", 12, ["Another view of the man."])],
        [("Market/0002_c1s1_000451_03.jpg", 3, ["A woman in blue."])],
    ]
    records = [r for g in source.identities() for r in g]
    assert {(c.style, c.generator) for r in records for c in r.captions} == {("cuhk-pedes", "human")}
    assert records[0].image_ext == "png" and records[1].image_ext == "jpg"
    assert records[1].provenance == {"split": "train", "empty_captions": 1}
    assert source.read_image(records[0]) == b"\x89PNG\r\n\x1a\nCUHK01/0107002.png"


def test_split_filter(tmp_path):
    root = _dataset(tmp_path, "reid_raw.json", RECORDS)
    assert [r.source_ref for g in build_source("cuhk-pedes", root=root, split="test").identities() for r in g] == [
        "Market/0002_c1s1_000451_03.jpg"]
    assert len(list(build_source("cuhk-pedes", root=root, split="val").identities())) == 0
    with pytest.raises(SourceError, match="split"):
        build_source("cuhk-pedes", root=root, split="dev")


@pytest.mark.parametrize("name", ["ICFG-PEDES.json", "ICFG_PEDES.json"])
def test_icfg_both_file_names(tmp_path, name):
    root = _dataset(tmp_path, name, RECORDS[:2])
    for source_name in ("icfg-pedes", "cuhk-pedes"):
        records = [r for g in build_source(source_name, root=root).identities() for r in g]
        assert len(records) == 2 and records[0].captions[0].style == "icfg-pedes"
        assert records[0].source == source_name


def test_rstpreid_img_path_and_style_override(tmp_path):
    root = _dataset(tmp_path, "data_captions.json", RECORDS, path_key="img_path")
    source = build_source("rstpreid", root=root, style="rstp")
    records = [r for g in source.identities() for r in g]
    assert [r.source_ref for r in records] == [
        "CUHK01/0107002.png", "cam_a/001_45.jpg", "Market/0002_c1s1_000451_03.jpg"]
    assert records[0].captions[0].style == "rstp"
    assert source.read_image(records[1]).endswith(b"cam_a/001_45.jpg")


def test_missing_files_and_bad_records(tmp_path):
    with pytest.raises(SourceError, match="reid_raw.json"):
        build_source("cuhk-pedes", root=tmp_path)
    with pytest.raises(SourceError, match="ICFG-PEDES.json or"):
        build_source("icfg-pedes", root=tmp_path)
    with pytest.raises(SourceError, match="missing"):
        build_source("rstpreid", root=tmp_path, annotations=tmp_path / "nope.json")
    bad = [RECORDS[0], {"id": "x", "file_path": "a.jpg", "captions": []}, {"id": 12, "captions": "oops",
                                                                           "file_path": "b.jpg"}, ["not", "a", "dict"]]
    root = _dataset(tmp_path / "bad", "reid_raw.json", bad)
    source = build_source("cuhk-pedes", root=root)
    groups = _summary(source)
    assert [[ref for ref, _, _ in g] for g in groups] == [["CUHK01/0107002.png", "b.jpg"], ["a.jpg"],
                                                          ["reid_raw.json#3"]]
    assert [g[0][1] for g in groups] == [12, -2, -4]
    for record in [r for g in source.identities() for r in g][1:]:
        with pytest.raises(ImageReadError) as err:
            source.read_image(record)
        assert err.value.reason == "invalid_annotation" and "reid_raw.json record" in str(err.value)
    (root / "reid_raw.json").write_text('[{"id": 1,')
    with pytest.raises(SourceError, match="reid_raw.json"):
        list(build_source("cuhk-pedes", root=root).identities())


@pytest.mark.skipif(not DEVDATA_CUHK.is_file(), reason="devdata cuhk_pedes_val.json not present")
def test_real_cuhk_pedes_val_annotations(tmp_path):
    source = build_source("cuhk-pedes", root=tmp_path, annotations=DEVDATA_CUHK, split="val")
    groups = list(source.identities())
    records = [r for g in groups for r in g]
    assert len(groups) == 1000 and len(records) == 3078
    assert sum(len(r.captions) for r in records) + sum(r.provenance.get("empty_captions", 0) for r in records) == 6158
    assert not any("invalid" in r.provenance for r in records)
    with pytest.raises(ImageReadError) as err:  # the images are not part of devdata
        source.read_image(records[0])
    assert err.value.reason == "missing_image"


def test_ufine_images_relative_to_root_and_the_one_json_file(tmp_path):
    root = tmp_path / "UFine6926"
    (root / "images").mkdir(parents=True)
    (root / "images" / "7.jpg").write_bytes(b"\xff\xd8\xffseven")
    rows = [{"split": "train", "id": 5, "file_path": "images/7.jpg", "captions": ["A tall man.", "Blue coat."]},
            {"split": "test", "id": 6, "file_path": "images/8.jpg", "captions": ["A girl."], "source": "cuhk"}]
    (root / "ufine6926_anno.json").write_text(json.dumps(rows))
    source = build_source("ufine", root=str(root), split="train")
    (record,) = [r for g in source.identities() for r in g]
    assert (record.source_ref, record.person_id, [c.style for c in record.captions]) == ("images/7.jpg", 5,
                                                                                          ["ufine", "ufine"])
    assert source.read_image(record) == b"\xff\xd8\xffseven"
    (root / "other.json").write_text("[]")
    with pytest.raises(SourceError, match="2 .json files; name the annotation file"):
        build_source("ufine", root=str(root))
    assert len(list(build_source("ufine", root=str(root), annotations=str(root / "ufine6926_anno.json"))
                    .identities())) == 2
