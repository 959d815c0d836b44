"""plip.data's fast paths against their references: ``tar_files`` against ``tarfile`` (plain, pax, GNU long names,
links, directories, corrupt and truncated archives), ``caption_options`` against ``spac.records.from_sample``
(same options, same errors), ``load_image`` against the ``plip.transforms`` chain (same pixels)."""

import io
import json
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from plip import transforms
from plip.data import caption_options, load_image, read_raw, tar_files
from spac.records import SLOTS, RecordError, from_sample


def _tar(members, fmt=tarfile.USTAR_FORMAT, extra=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return buf.getvalue()


def _reference(path):
    with tarfile.open(path, mode="r|") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar if m.isfile()]


MEMBERS = [(f"{i:04d}.{ext}", bytes([i]) * (i * 37 + n)) for i in range(6) for n, ext in enumerate(("jpg", "json"))]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_tar_files_equal_tarfile(tmp_path, fmt):
    link = tarfile.TarInfo("link.jpg")
    link.type, link.linkname = tarfile.SYMTYPE, "0000.jpg"
    folder = tarfile.TarInfo("sub")
    folder.type = tarfile.DIRTYPE
    long = ("d" * 60 + "/" if fmt == tarfile.USTAR_FORMAT else "x" * 60) + "x" * 60 + ".jpg"  # ustar: a prefix
    members = MEMBERS[:4] + [(long, b"long name"), ("café/ü.json", b"{}")] + MEMBERS[4:]
    path = tmp_path / "a.tar"
    path.write_bytes(_tar(members, fmt, extra=(link, folder)))
    got = list(tar_files(path))
    assert got == _reference(path) and [n for n, _ in got] == [n for n, _ in members]


def _outcome(path, read):
    try:
        return read(path)
    except tarfile.ReadError as err:
        return f"ReadError: {err}"


def test_tar_files_bad_archives_behave_like_tarfile(tmp_path):
    data = _tar(MEMBERS)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        third = tar.getmembers()[3].offset  # header offset of 0001.json
    cases = {
        "inside data": data[: third - 500],
        "inside padding": data[: third - 100],
        "inside a header": data[: third + 100],
        "no end blocks": data[: 512 * 2],
        "empty": b"",
        "zeros": b"\0" * 1024,
        "garbage": b"x" * 2048,
    }
    for flip in (3, 150, 200):  # a name byte, the checksum field, the type byte of the third header
        corrupt = bytearray(data)
        corrupt[third + flip] ^= 0x5A
        cases[f"corrupt header byte {flip}"] = bytes(corrupt)
    first = bytearray(data)
    first[10] ^= 0x5A
    cases["corrupt first header"] = bytes(first)
    for name, content in cases.items():
        path = tmp_path / "case.tar"
        path.write_bytes(content)
        assert _outcome(path, lambda p: list(tar_files(p))) == _outcome(path, _reference), name
    assert _outcome(tmp_path / "case.tar", _reference).startswith("ReadError")  # the corrupt first header fails


def _record(key="k1", **over):
    rec = {
        "schema": "spac/1",
        "key": key,
        "source": "demo",
        "source_ref": "r",
        "person_id": 7,
        "attributes": {slot: None for slot in SLOTS},
        "captions": [
            {"text": "a man in a red jacket", "style": "s", "spans": [{"slot": "upper", "start": 11, "end": 21}]},
            {"text": "the man", "spans": [{"slot": "gender", "start": 4, "end": 7}]},
        ],
        "prompt_caption": {"text": "man, red jacket", "template_id": "t", "spans": []},
    }
    rec.update(over)
    return {"__key__": key, "__url__": "x.tar", "json": rec}


def test_caption_options_equal_the_record():
    sample = _record()
    pid, options = caption_options(sample, prompt_weight=0.5)
    record = from_sample(sample)
    assert pid == record.person_id == 7
    want = [(c.text, [(s.start, s.end, SLOTS.index(s.slot)) for s in c.spans], 1.0) for c in record.captions]
    want.append((record.prompt_caption.text, [], 0.5))
    assert options == want
    assert len(caption_options(sample, prompt_weight=0.0)[1]) == 2


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"schema": "spac/0"}, "schema must be 'spac/1'"),
        ({"person_id": "7"}, "person_id must be an int"),
        ({"colour": 1}, "unknown field"),
        ({"captions": [{"text": "a man", "spans": [{"slot": "hat", "start": 0, "end": 1}]}]}, "'hat' is not one of"),
        ({"captions": [{"text": "a man", "spans": [{"slot": "gender", "start": 2, "end": 9}]}]}, "outside a text"),
        ({"captions": [{"text": " "}]}, "non-empty string"),
        ({"captions": [], "prompt_caption": None}, "has no caption"),
        ({"attributes": {"gender": "man"}}, "missing field"),
        ({"attributes": {**{s: None for s in SLOTS}, "upper": "red, blue"}}, "may not contain a comma"),
        ({"camera": 1.5}, "camera must be an int"),
        ({"provenance": [1]}, "'provenance' must be an object"),
        ({"source": 3}, "'source' must be str"),
        ({"__key__": "k2"}, "differs from the record's key"),
    ],
)
def test_caption_options_errors_name_the_shard_and_the_problem(over, message):
    sample = _record(**{k: v for k, v in over.items() if k != "__key__"})
    sample["__key__"] = over.get("__key__", sample["__key__"])
    with pytest.raises(RecordError, match=message) as err:
        caption_options(sample, prompt_weight=1.0)
    assert str(err.value).startswith("x.tar: ")


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
@pytest.mark.parametrize("size", [(32, 16), (24, 20)])
def test_load_image_equals_the_transforms_chain(mode, size):
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (32, 16, 3), dtype=np.uint8)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG" if mode == "RGBA" else "JPEG")
    sample = {"__key__": "k", "jpg": buf.getvalue()}
    for flip in (False, True):
        ref = transforms.resize(transforms.load_rgb(buf.getvalue()), size, "bicubic")
        if flip:
            ref = ref.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        want = transforms.to_uint8_tensor(ref)
        out = torch.full((3, *size), 7, dtype=torch.uint8)
        assert torch.equal(load_image(sample, size, "bicubic", flip, out=out), want) and torch.equal(out, want)
        assert torch.equal(load_image(sample, size, "bicubic", flip), want)
        view = np.zeros((2, 3, *size), dtype=np.uint8)
        assert torch.equal(load_image(sample, size, "bicubic", flip, out=view[1]), want) and not view[0].any()
    with pytest.raises(ValueError, match="unknown resample"):
        load_image(sample, (32, 16), "cubic", False)
    with pytest.raises(ValueError, match=r"y.tar: sample 'k': .*not a readable image"):
        load_image({"__key__": "k", "__url__": "y.tar", "jpg": b"nope"}, size, "bicubic", False)


def test_read_raw_groups_members_and_parses_json(tmp_path):
    path = tmp_path / "s.tar"
    path.write_bytes(
        _tar([("a.jpg", b"1"), ("a.json", json.dumps({"x": 1}).encode()), ("b.jpg", b"2"), ("b.json", b"[]")])
    )
    assert [(s["__key__"], s["jpg"], s["json"]) for s in read_raw(path)] == [("a", b"1", {"x": 1}), ("b", b"2", [])]
