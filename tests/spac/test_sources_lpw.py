"""The lpw source: scen*/view*/<pid>/ folders, identity = scene + pid across views, camera = view."""

import pytest

from spac.sources import SourceError, build_source
from spac.sources.lpw import PID_STRIDE


def _touch(path, data=b"\xff\xd8\xff\xe0 tiny jpeg"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def lpw_root(tmp_path):
    root = tmp_path / "pep_256x128" / "data_slim"
    for rel in ("scen1/view1/1/a.jpg", "scen1/view1/1/b.jpg", "scen1/view3/1/c.jpg", "scen1/view2/1/d.jpg",
                "scen1/view2/12/e.jpg", "scen2/view1/1/f.jpg", "scen2/view2/7/g.jpg"):
        _touch(root / rel, b"\xff\xd8\xff" + rel.encode())
    (root / "scen1" / "view1" / "empty_pid_files.txt").write_text("x")
    return tmp_path, root


def _summary(source):
    return [[(r.source_ref, r.person_id, r.camera) for r in g] for g in source.identities()]


def test_identities_across_views_with_global_ids(lpw_root):
    outer, root = lpw_root
    groups = _summary(build_source("lpw", root=str(outer)))  # the release's outer folders are accepted
    assert groups == [
        [("scen1/view1/1/a.jpg", 100001, 1), ("scen1/view1/1/b.jpg", 100001, 1),
         ("scen1/view2/1/d.jpg", 100001, 2), ("scen1/view3/1/c.jpg", 100001, 3)],
        [("scen1/view2/12/e.jpg", 100012, 2)],
        [("scen2/view1/1/f.jpg", 2 * PID_STRIDE + 1, 1)],
        [("scen2/view2/7/g.jpg", 200007, 2)],
    ]
    source = build_source("lpw", root=root)
    assert _summary(build_source(source.name, **source.options)) == _summary(source)
    record = next(source.identities())[2]
    assert source.read_image(record).endswith(b"scen1/view2/1/d.jpg")


def test_scene_filter(lpw_root):
    _, root = lpw_root
    assert {g[0].person_id // PID_STRIDE for g in build_source("lpw", root=root, scenes=[2]).identities()} == {2}
    with pytest.raises(SourceError, match="none of scenes"):
        list(build_source("lpw", root=root, scenes=[9]).identities())


def test_wrong_layouts(tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(SourceError, match="no scen"):
        list(build_source("lpw", root=tmp_path / "nothing").identities())
    _touch(tmp_path / "bad" / "scen1" / "view1" / "alice" / "a.jpg")
    with pytest.raises(SourceError, match="alice"):
        list(build_source("lpw", root=tmp_path / "bad").identities())
    (tmp_path / "noview" / "scen1").mkdir(parents=True)
    with pytest.raises(SourceError, match="no view"):
        list(build_source("lpw", root=tmp_path / "noview").identities())
