"""market1501: the release folder layout, splits, identities across query/test, distractors and errors."""

import pytest

from spac.sources import ImageReadError, SourceError, build_source

FILES = {
    "bounding_box_train": ["0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg", "0007_c3s1_000001_01.jpg"],
    "bounding_box_test": ["0001_c1s1_001051_00.jpg", "0000_c1s1_000001_00.jpg", "-1_c2s1_000002_00.jpg"],
    "query": ["0001_c2s1_000301_00.jpg"],
}


def _release(root):
    for folder, names in FILES.items():
        (root / folder).mkdir(parents=True)
        for name in names:
            (root / folder / name).write_bytes(b"\xff\xd8\xff" + name.encode())
    return root


def _groups(source):
    return [[(r.source_ref, r.person_id, r.camera) for r in g] for g in source.identities()]


def test_train_split_groups_by_person_with_cameras(tmp_path):
    source = build_source("market1501", root=str(_release(tmp_path / "Market-1501")))
    assert _groups(source) == [
        [("bounding_box_train/0002_c1s1_000451_03.jpg", 2, 1), ("bounding_box_train/0002_c2s1_000301_01.jpg", 2, 2)],
        [("bounding_box_train/0007_c3s1_000001_01.jpg", 7, 3)],
    ]
    record = next(iter(source.identities()))[0]
    assert source.read_image(record) == b"\xff\xd8\xff0002_c1s1_000451_03.jpg"


def test_all_joins_query_and_test_images_of_one_person_and_lists_distractors(tmp_path):
    root = _release(tmp_path / "Market-1501")
    groups = _groups(build_source("market1501", root=str(root), split="all"))
    assert [g[0][1] for g in groups] == [-1, 0, 1, 2, 7]
    assert [ref for ref, _, _ in groups[2]] == ["bounding_box_test/0001_c1s1_001051_00.jpg",
                                               "query/0001_c2s1_000301_00.jpg"]
    source = build_source("market1501", root=str(root), split="test")
    junk = next(iter(source.identities()))[0]
    with pytest.raises(ImageReadError) as err:
        source.read_image(junk)
    assert err.value.reason == "junk"
    skipping = build_source("market1501", root=str(root), split="test", distractors="skip")
    assert [g[0][1] for g in _groups(skipping)] == [1] and skipping.skipped == 2


def test_errors_name_the_path(tmp_path):
    with pytest.raises(SourceError, match="split must be one of"):
        build_source("market1501", root=str(tmp_path), split="gallery")
    with pytest.raises(SourceError, match=r"lacks \['query'\]"):
        build_source("market1501", root=str(tmp_path), split="query")
    root = _release(tmp_path / "M")
    (root / "bounding_box_train" / "readme.jpg").write_bytes(b"x")
    with pytest.raises(SourceError, match=r"readme\.jpg is not a Market-1501 name"):
        list(build_source("market1501", root=str(root)).identities())
