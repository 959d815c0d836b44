"""Shard writer/reader/validator on hand-built records: byte stability, member layout, ledger, tamper detection."""

import io
import json
import tarfile

import pytest
from PIL import Image

from spac.records import Attributes, PersonRecord, PromptCaption, to_sample
from spac.shards import (
    ShardItem,
    iter_records,
    list_shards,
    make_key,
    read_ledger,
    validate,
    write_index,
    write_shard,
)
from spac.shards.layout import archive_bytes, ledger_path, sample_bytes, stats_path, tar_path
from spac.shards.tar import MTIME


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 32), (seed * 40 % 256, 90, 30)).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _record(i: int, pid: int) -> PersonRecord:
    return PersonRecord(source="fake", source_ref=f"p{pid}/{i}.jpg", person_id=pid,
                        attributes=Attributes(gender="man", upper="red jacket"),
                        prompt_caption=PromptCaption(text=f"A man in a red jacket {i}.", template_id="t0"),
                        image=_jpeg(i))


def _items():
    return [ShardItem(_record(0, 1)), ShardItem(_record(1, 1), "corrupt_image", "bad huffman"),
            ShardItem(_record(2, 1)), ShardItem(_record(3, 2))]


CFG = {"seed": 0}


def test_shard_is_byte_identical_and_keys_are_sequential(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    sa = write_shard(a, "train", 3, _items(), config=CFG)
    sb = write_shard(b, "train", 3, _items(), config=CFG)
    assert tar_path(a, "train", 3).read_bytes() == tar_path(b, "train", 3).read_bytes()
    assert sa == sb and sa["samples"] == 3 and sa["input_records"] == 4
    assert sa["dropped"] == {"corrupt_image": 1} and sa["identities"] == 2
    with tarfile.open(tar_path(a, "train", 3)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members[:3]] == ["000003000000.jpg", "000003000000.json", "000003000000.txt"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(MTIME, 0, 0, "", "", 0o444)}
    assert [m.name.split(".")[0] for m in members[::3]] == ["000003000000", "000003000001", "000003000002"]
    # predicted size (used for byte rollover) is the real size
    payload = sum(sample_bytes(to_sample(r)) for r in
                  [rec for rec in iter_records_from_tar(tar_path(a, "train", 3))])
    assert archive_bytes(payload) == tar_path(a, "train", 3).stat().st_size == sa["bytes"]


def iter_records_from_tar(path):
    from spac.records import from_sample
    from spac.shards import iter_samples

    return [from_sample(s) for s in iter_samples(path)]


def test_ledger_has_one_row_per_input_and_stats_is_written_last(tmp_path):
    write_shard(tmp_path, "val", 0, _items(), config=CFG)
    rows = read_ledger(ledger_path(tmp_path, "val", 0))
    assert [r.source_ref for r in rows] == ["p1/0.jpg", "p1/1.jpg", "p1/2.jpg", "p2/3.jpg"]
    assert [r.status for r in rows] == ["kept", "dropped", "kept", "kept"]
    assert rows[1].key is None and rows[1].reason == "corrupt_image" and rows[1].detail == "bad huffman"
    assert [r.key for r in rows if r.key] == [make_key("val", 0, 0), make_key("val", 0, 1), make_key("val", 0, 2)]
    assert make_key("val", 0, 1) == "v000000000001"
    files = [tar_path(tmp_path, "val", 0), ledger_path(tmp_path, "val", 0), stats_path(tmp_path, "val", 0)]
    mtimes = [f.stat().st_mtime_ns for f in files]
    assert mtimes == sorted(mtimes)
    assert not list(tmp_path.rglob(".*.tmp"))


def test_index_reader_and_validate_catch_tampering(tmp_path):
    write_shard(tmp_path, "train", 0, _items(), config=CFG)
    write_shard(tmp_path, "train", 1, [ShardItem(_record(9, 5))], config=CFG)
    index = write_index(tmp_path, {"train": 2}, config=CFG)
    assert index["splits"]["train"]["samples"] == 4
    assert json.loads((tmp_path / "sizes.json").read_text()) == {"train-000000.tar": 3, "train-000001.tar": 1}
    assert [p.name for p in list_shards(tmp_path, "train")] == ["train-000000.tar", "train-000001.tar"]
    assert list_shards(tmp_path, "val") == []
    records = list(iter_records(tmp_path, "train"))
    assert [r.source_ref for r in records] == ["p1/0.jpg", "p1/2.jpg", "p2/3.jpg", "p5/9.jpg"]
    assert records[0].image == _jpeg(0)
    report = validate(tmp_path)
    assert report.ok, report.problems
    assert (report.shards, report.samples) == (2, 4)

    # flip one byte inside the first image's data: sha256 mismatch (and a corrupt jpg member)
    tar = tar_path(tmp_path, "train", 0)
    data = bytearray(tar.read_bytes())
    data[512 + 300] ^= 0xFF
    tar.write_bytes(bytes(data))
    problems = validate(tmp_path).problems
    assert any("sha256" in p and "train-000000.tar" in p for p in problems)
    # a missing shard and a stray one
    tar_path(tmp_path, "train", 1).rename(tmp_path / "train-000007.tar")
    problems = validate(tmp_path).problems
    assert any("train-000001.tar: missing shard" in p for p in problems)
    assert any("train-000007.tar: tar on disk but not in index.json" in p for p in problems)


def test_validate_reports_count_mismatch_and_identity_split(tmp_path):
    write_shard(tmp_path, "train", 0, [ShardItem(_record(0, 1))], config=CFG)
    write_shard(tmp_path, "train", 1, [ShardItem(_record(1, 1))], config=CFG)  # identity 1 split over two shards
    write_index(tmp_path, {"train": 2}, config=CFG)
    index = json.loads((tmp_path / "index.json").read_text())
    index["splits"]["train"]["shards"][0]["samples"] = 5
    (tmp_path / "index.json").write_text(json.dumps(index))
    problems = validate(tmp_path).problems
    assert any("1 samples in the tar, index.json says 5" in p for p in problems)
    assert any("identity 1 also appears in train-000000.tar" in p for p in problems)


def test_validate_unfinished_folder(tmp_path):
    report = validate(tmp_path)
    assert not report.ok and "index.json not found" in report.problems[0]


@pytest.mark.parametrize("bad", ["key.with.dot", "a/b"])
def test_record_keys_must_be_dot_and_slash_free(bad):
    from spac.records import RecordError

    with pytest.raises(RecordError):
        PersonRecord(key=bad, source="x", source_ref="r", person_id=1)
