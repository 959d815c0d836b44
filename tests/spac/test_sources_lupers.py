"""The lupers source on a real LMDB in the LUPerson(-NL) layout and on the extracted folder layout."""

import io
import os
import pickle

import lmdb
import pytest
from PIL import Image

from spac.sources import ImageReadError, SourceError, build_source
from spac.sources import lupers as lupers_module


def _jpeg(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 16), (shade, 10, 20)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def _pack(root, keys, payload, *, pids=None, as_list=False):
    """Write root/lmdb + root/keys.pkl the way LUPerson-NL's convert_lmdb.py does."""
    env = lmdb.open(str(root / "lmdb"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for key in keys:
            txn.put(key.encode("ascii"), payload[key])
    env.close()
    data = keys if as_list else ({"keys": keys} if pids is None else {"keys": keys, "pids": pids})
    (root / "keys.pkl").write_bytes(pickle.dumps(data))


# Two videos, pid 3 in both (different people), keys of video 1 scattered on purpose.
NL_KEYS = ["00001_000003_0000010_00", "00001_000007_0000010_01", "00001_000003_0000011_00",
           "00002_000003_0000005_00", "00002_000003_0000006_00", "00001_000007_0000012_00"]
NL_PIDS = [3, 7, 3, 3, 3, 7]


@pytest.fixture
def nl_root(tmp_path):
    payload = {k: _jpeg(i * 30) for i, k in enumerate(NL_KEYS)}
    _pack(tmp_path, NL_KEYS, payload, pids=NL_PIDS)
    env = lmdb.open(str(tmp_path / "lmdb"))
    with env.begin(write=True) as txn:
        txn.put(b"garbage_1", b"not a jpeg")  # in the LMDB but not in keys.pkl
    env.close()
    return tmp_path, payload


def test_nl_lmdb_groups_tracklets_per_video(nl_root):
    root, payload = nl_root
    source = build_source("lupers", root=str(root))
    groups = list(source.identities())
    as_keys = [[r.source_ref for r in g] for g in groups]
    assert sorted(map(sorted, as_keys)) == sorted([
        ["00001_000003_0000010_00", "00001_000003_0000011_00"],
        ["00001_000007_0000010_01", "00001_000007_0000012_00"],
        ["00002_000003_0000005_00", "00002_000003_0000006_00"],
    ])
    assert [g[0].person_id for g in groups] == [0, 1, 2]
    assert all(r.tracklet == int(r.source_ref.split("_")[1]) for g in groups for r in g)
    assert all(len({r.person_id for r in g}) == 1 for g in groups)
    # deterministic: a source rebuilt from its options numbers identities the same way
    again = [[(r.source_ref, r.person_id) for r in g] for g in build_source("lupers", **source.options).identities()]
    assert again == [[(r.source_ref, r.person_id) for r in g] for g in groups]
    for record in (r for g in groups for r in g):
        assert source.read_image(record) == payload[record.source_ref]


def test_lmdb_opened_once_per_process_and_source_pickles(nl_root):
    root, payload = nl_root
    source = build_source("lupers", root=str(root))
    records = [r for g in source.identities() for r in g]
    source.read_image(records[0])
    handle = (os.getpid(), os.path.realpath(root / "lmdb"))
    env = lupers_module._ENVS[handle]
    source.read_image(records[1])
    assert lupers_module._ENVS[handle] is env
    clone = pickle.loads(pickle.dumps(source))  # a worker rebuilds it; no handle travels
    assert clone.read_image(records[2]) == payload[records[2].source_ref]
    assert sum(1 for h in lupers_module._ENVS if h == handle) == 1


def test_absent_key_is_a_per_record_error(nl_root):
    root, _ = nl_root
    source = build_source("lupers", root=str(root))
    record = next(source.identities())[0]
    from dataclasses import replace

    with pytest.raises(ImageReadError) as err:
        source.read_image(replace(record, source_ref="99999_000001_0000001_00"))
    assert err.value.reason == "missing_key" and "99999_000001_0000001_00" in str(err.value)
    with pytest.raises(ImageReadError) as err:
        source.read_image(replace(record, source_ref="garbage_1"))
    assert err.value.reason == "bad_image_format"


def test_plain_luperson_list_pickle_one_identity_per_image(tmp_path):
    keys = ["00_00_0000_00000000", "00_00_0000_00000001", "00_01_0003_00000000"]
    _pack(tmp_path, keys, {k: _jpeg(5) for k in keys}, as_list=True)
    groups = list(build_source("lupers", root=tmp_path).identities())
    assert [[(r.source_ref, r.person_id, r.tracklet) for r in g] for g in groups] == [
        [(keys[0], 0, None)], [(keys[1], 1, None)], [(keys[2], 2, None)]]


def test_keys_pickle_inside_lmdb_folder_is_found(tmp_path):
    keys = ["a_1", "b_2"]
    _pack(tmp_path, keys, {k: _jpeg(1) for k in keys})
    (tmp_path / "keys.pkl").rename(tmp_path / "lmdb" / "keys.pkl")
    assert len(list(build_source("lupers", root=tmp_path).identities())) == 2


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    keys = ["a_1"]
    _pack(tmp_path, keys, {"a_1": _jpeg(1)})
    marker = tmp_path / "pwned"
    (tmp_path / "keys.pkl").write_bytes(pickle.dumps({"keys": keys, "x": _Evil(str(marker))}))
    source = build_source("lupers", root=tmp_path)
    with pytest.raises(SourceError, match="keys.pkl") as err:
        list(source.identities())
    assert "posix.mkdir" in str(err.value) or "os.mkdir" in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("bad", [{"pids": [1]}, {"keys": "abc"}, {"keys": ["a"], "pids": [1, 2]},
                                 {"keys": [1, 2]}, {"keys": ["a"], "pids": ["x"]}])
def test_malformed_keys_pickle(tmp_path, bad):
    _pack(tmp_path, ["a"], {"a": _jpeg(1)})
    (tmp_path / "keys.pkl").write_bytes(pickle.dumps(bad))
    with pytest.raises(SourceError, match="keys.pkl"):
        list(build_source("lupers", root=tmp_path).identities())


def test_missing_keys_or_lmdb_name_the_path(tmp_path):
    _pack(tmp_path, ["a"], {"a": _jpeg(1)})
    (tmp_path / "keys.pkl").unlink()
    with pytest.raises(SourceError, match=str(tmp_path / "keys.pkl")):
        build_source("lupers", root=tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keys.pkl").write_bytes(pickle.dumps(["a"]))
    with pytest.raises(SourceError, match=r"data\.mdb"):
        build_source("lupers", root=other)
    with pytest.raises(SourceError, match="not a directory"):
        build_source("lupers", root=tmp_path / "nowhere")


def _write(path, data=b""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data or _jpeg(9))


def test_extracted_nl_folders_group_by_video_and_pid(tmp_path):
    video_a, video_b = tmp_path / "france" / "paris" / "vidA", tmp_path / "japan" / "tokyo" / "vidB"
    for name in ("000001_0000010_00.jpg", "000001_0000011_00.jpg", "000002_0000010_01.jpg"):
        _write(video_a / name)
    for name in ("000001_0000003_00.jpg", "frame_0001.jpg"):
        _write(video_b / name)
    groups = list(build_source("lupers", root=tmp_path).identities())
    summary = [([r.source_ref for r in g], g[0].person_id, g[0].tracklet) for g in groups]
    assert summary == [
        (["france/paris/vidA/000001_0000010_00.jpg", "france/paris/vidA/000001_0000011_00.jpg"], 0, 1),
        (["france/paris/vidA/000002_0000010_01.jpg"], 1, 2),
        (["japan/tokyo/vidB/000001_0000003_00.jpg"], 2, 1),
        (["japan/tokyo/vidB/frame_0001.jpg"], 3, None),
    ]
    source = build_source("lupers", root=tmp_path, labels="none")
    assert len(list(source.identities())) == 5
    record = groups[0][0]
    assert source.read_image(record) == (tmp_path / record.source_ref).read_bytes()


def test_extracted_wrong_layout(tmp_path):
    _write(tmp_path / "france" / "paris" / "stray.jpg")
    with pytest.raises(SourceError, match="stray.jpg"):
        list(build_source("lupers", root=tmp_path).identities())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no images"):
        list(build_source("lupers", root=empty).identities())
