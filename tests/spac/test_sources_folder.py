"""The folder source: identity sub-folders, flat Market-1501 names, PNG kept as PNG, real Market crops."""

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from spac.sources import ImageReadError, SourceError, build_source

MARKET_CROPS = Path(__file__).resolve().parents[3] / "shared" / "devdata" / "market_crops"


def _image(path: Path, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 16), (200, 30, 40)).save(out, format=fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return out.getvalue()


def _summary(source):
    return [[(r.source_ref, r.person_id, r.camera, r.image_ext) for r in g] for g in source.identities()]


def test_identity_subfolders_numeric_and_png(tmp_path):
    _image(tmp_path / "0007" / "a.jpg")
    png = _image(tmp_path / "0007" / "b.png", "PNG")
    _image(tmp_path / "0012" / "0012_c3s1_000100_00.jpg")
    (tmp_path / "0012" / "notes.txt").write_text("not an image")
    source = build_source("folder", root=str(tmp_path))
    assert _summary(source) == [
        [("0007/a.jpg", 7, None, "jpg"), ("0007/b.png", 7, None, "png")],
        [("0012/0012_c3s1_000100_00.jpg", 12, 3, "jpg")],
    ]
    record = next(source.identities())[1]
    assert source.read_image(record) == png  # PNG kept byte for byte, not re-encoded


def test_identity_subfolders_with_names_are_numbered_in_order(tmp_path):
    for name in ("bob", "alice", "carol"):
        _image(tmp_path / name / "x.jpg")
    (tmp_path / "empty").mkdir()
    assert [g[0].person_id for g in build_source("folder", root=tmp_path).identities()] == [0, 1, 2]
    assert [g[0].source_ref for g in build_source("folder", root=tmp_path).identities()] == [
        "alice/x.jpg", "bob/x.jpg", "carol/x.jpg"]


def test_flat_market_names_grouped_with_cameras(tmp_path):
    for name in ("0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg", "0010_c6s4_002427_02.jpg",
                 "0000_c3s1_107067_00.jpg", "-1_c1s2_000001_00.jpg", "0001_c4_f0046182.jpg"):
        _image(tmp_path / name)
    source = build_source("folder", root=tmp_path)
    groups = _summary(source)
    assert _summary(build_source(source.name, **source.options)) == groups
    assert groups == [
        [("-1_c1s2_000001_00.jpg", -1, 1, "jpg")],
        [("0000_c3s1_107067_00.jpg", 0, 3, "jpg")],
        [("0001_c4_f0046182.jpg", 1, 4, "jpg")],
        [("0002_c1s1_000451_03.jpg", 2, 1, "jpg"), ("0002_c2s1_000301_01.jpg", 2, 2, "jpg")],
        [("0010_c6s4_002427_02.jpg", 10, 6, "jpg")],
    ]
    records = [r for g in source.identities() for r in g]
    for record, reason in ((records[0], "junk"), (records[1], "distractor")):
        with pytest.raises(ImageReadError) as err:
            source.read_image(record)
        assert err.value.reason == reason
    assert source.read_image(records[2]) == (tmp_path / records[2].source_ref).read_bytes()
    skipping = build_source("folder", root=tmp_path, distractors="skip")
    assert [g[0].person_id for g in skipping.identities()] == [1, 2, 10] and skipping.skipped == 2


def test_flat_unlabelled_and_inconsistent_folders(tmp_path):
    for name in ("b.jpg", "a.png"):
        _image(tmp_path / "plain" / name)
    assert _summary(build_source("folder", root=tmp_path / "plain")) == [
        [("a.png", 0, None, "png")], [("b.jpg", 1, None, "jpg")]]
    _image(tmp_path / "mixed" / "0002_c1s1_000451_03.jpg")
    _image(tmp_path / "mixed" / "holiday.jpg")
    with pytest.raises(SourceError, match="holiday.jpg"):
        list(build_source("folder", root=tmp_path / "mixed").identities())
    assert len(list(build_source("folder", root=tmp_path / "mixed", layout="single").identities())) == 2
    _image(tmp_path / "both" / "x.jpg")
    _image(tmp_path / "both" / "sub" / "y.jpg")
    with pytest.raises(SourceError, match="mixes"):
        list(build_source("folder", root=tmp_path / "both").identities())
    _image(tmp_path / "Market" / "bounding_box_train" / "0002_c1s1_000451_03.jpg")
    _image(tmp_path / "Market" / "bounding_box_train" / "0007_c1s1_000451_03.jpg")
    with pytest.raises(SourceError, match="bounding_box_train holds Market-1501 names of 2 person ids"):
        list(build_source("folder", root=tmp_path / "Market").identities())
    (tmp_path / "void").mkdir()
    with pytest.raises(SourceError, match="no JPEG/PNG"):
        list(build_source("folder", root=tmp_path / "void").identities())
    with pytest.raises(SourceError, match="not a directory"):
        build_source("folder", root=tmp_path / "absent")
    with pytest.raises(SourceError, match="layout"):
        build_source("folder", root=tmp_path, layout="weird")


def test_per_record_read_errors(tmp_path):
    _image(tmp_path / "1" / "a.jpg")
    (tmp_path / "1" / "fake.jpg").write_bytes(b"GIF89a not a jpeg")
    (tmp_path / "1" / "zero.jpg").write_bytes(b"")
    source = build_source("folder", root=tmp_path)
    records = {r.source_ref: r for g in source.identities() for r in g}
    reasons = {}
    for ref in ("1/fake.jpg", "1/zero.jpg"):
        with pytest.raises(ImageReadError) as err:
            source.read_image(records[ref])
        reasons[ref] = err.value.reason
    assert reasons == {"1/fake.jpg": "bad_image_format", "1/zero.jpg": "empty_image"}
    (tmp_path / "1" / "a.jpg").unlink()
    with pytest.raises(ImageReadError, match="missing") as err:
        source.read_image(records["1/a.jpg"])
    assert err.value.reason == "missing_image"
    with pytest.raises(ImageReadError) as err:
        source.read_image(replace(records["1/fake.jpg"], source_ref="../../etc/passwd"))
    assert err.value.reason == "bad_path"


@pytest.mark.skipif(not MARKET_CROPS.is_dir(), reason="devdata market_crops not present")
def test_real_market_crops():
    source = build_source("folder", root=MARKET_CROPS)
    groups = list(source.identities())
    records = [r for g in groups for r in g]
    assert len(records) == len([p for p in MARKET_CROPS.iterdir() if p.suffix == ".jpg"])
    for group in groups:
        pid = group[0].person_id
        assert all(r.person_id == pid and r.source_ref.startswith(f"{pid:04d}_c") for r in group)
        assert all(r.camera == int(r.source_ref.split("_c")[1][0]) for r in group)
    readable = [r for r in records if r.person_id > 0]
    for record in readable[:10]:
        assert Image.open(io.BytesIO(source.read_image(record))).size == (64, 128)
    distractors = [r for r in records if r.person_id == 0]
    for record in distractors:
        with pytest.raises(ImageReadError):
            source.read_image(record)
