"""``spac caption``: JSONL parts as TEAM.md specifies, resume after interruption, disjoint process slices,
corrupt images as error lines, and the ``spac``/``template`` back-ends."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from captioner_fixtures import tiny_captioner  # noqa: E402

from spac.captioner.backends import BackendError, build_backend  # noqa: E402
from spac.captioner.inference import CaptionRunError, caption_source  # noqa: E402
from spac.records import SLOTS  # noqa: E402
from spac.sources import ImageReadError, build_source  # noqa: E402
from spac.sources.base import register_source  # noqa: E402
from spac.sources.demo import DemoSource  # noqa: E402

DEMO = {"identities": 3, "images_per_identity": 3, "seed": 0}


@register_source
class BrokenDemo(DemoSource):
    """The demo set with one undecodable image and one missing image."""

    name = "test-broken-demo"

    def read_image(self, record):
        if record.source_ref == "000000_01":
            return b"this is not a jpeg"
        if record.source_ref == "000001_02":
            raise ImageReadError("gone", reason="missing_image")
        return super().read_image(record)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from spac.captioner.checkpoint import save_captioner

    model, tok = tiny_captioner()
    return str(save_captioner(model.eval(), tok, tmp_path_factory.mktemp("ckpt")))


@pytest.fixture(scope="module")
def backend(checkpoint):
    return build_backend("spac", model=checkpoint, max_attribute_tokens=3, max_caption_tokens=6, device="cpu")


def _parts(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).glob("part-*.jsonl"))}


def _lines(folder):
    return [json.loads(line) for data in _parts(folder).values() for line in data.decode().splitlines()]


def test_output_lines_follow_the_contract(backend, tmp_path):
    summary = caption_source(backend, "demo", DEMO, tmp_path, batch_size=4, part_size=4, progress=False)
    assert summary.images == 9 and summary.parts_written == 3 and summary.errors == 0
    lines = _lines(tmp_path)
    assert [x["source_ref"] for x in lines] == [r.source_ref for g in build_source("demo", **DEMO).identities()
                                                for r in g]
    for line in lines:
        assert set(line) == {"source", "source_ref", "attributes", "captions", "generator", "revision"}
        assert line["source"] == "demo" and line["generator"] == "spac" and line["revision"] == backend.revision
        assert set(line["attributes"]) == set(SLOTS)
        assert all(c["style"] in ("cuhk", "icfg") and c["generator"] == "spac" and c["text"] for c in line["captions"])
    assert not list(tmp_path.glob("*.tmp*"))


def test_resumed_run_equals_uninterrupted_run(backend, tmp_path):
    full, resumed = tmp_path / "full", tmp_path / "resumed"
    caption_source(backend, "demo", DEMO, full, batch_size=2, part_size=2, progress=False)
    first = caption_source(backend, "demo", DEMO, resumed, batch_size=2, part_size=2, progress=False, max_parts=2)
    assert first.parts_written == 2
    (resumed / "part-00002.jsonl.tmp-0").write_text('{"source_ref": "half-written')  # a crash mid-part
    second = caption_source(backend, "demo", DEMO, resumed, batch_size=2, part_size=2, progress=False)
    assert second.parts_skipped == 2 and second.parts_written == 3
    assert _parts(resumed) == _parts(full)
    # two processes, disjoint slices of parts, same files
    sliced = tmp_path / "sliced"
    a = caption_source(backend, "demo", DEMO, sliced, batch_size=2, part_size=2, progress=False, rank=0, world=2)
    b = caption_source(backend, "demo", DEMO, sliced, batch_size=2, part_size=2, progress=False, rank=1, world=2)
    assert (a.parts_written, b.parts_written) == (3, 2)
    assert _parts(sliced) == _parts(full)


def test_other_run_in_the_same_folder_is_refused(backend, tmp_path):
    caption_source(backend, "demo", DEMO, tmp_path, part_size=5, progress=False)
    with pytest.raises(CaptionRunError, match="another run"):
        caption_source(backend, "demo", {**DEMO, "seed": 1}, tmp_path, part_size=5, progress=False)


def test_corrupt_and_missing_images_are_error_lines(backend, tmp_path):
    summary = caption_source(backend, "test-broken-demo", DEMO, tmp_path, batch_size=4, part_size=4, progress=False)
    lines = {x["source_ref"]: x for x in _lines(tmp_path)}
    assert len(lines) == 9 and summary.errors == 2
    assert set(lines["000000_01"]) == {"source_ref", "error"}
    assert lines["000000_01"]["error"].startswith("unreadable_image:")
    assert lines["000001_02"]["error"].startswith("missing_image:")
    assert summary.error_reasons == {"unreadable_image": 1, "missing_image": 1}
    assert all("captions" in x for ref, x in lines.items() if ref not in ("000000_01", "000001_02"))


def test_template_backend_renders_known_attributes(tmp_path):
    from spac.text.extract import extract_attributes

    styles = ["default", str(Path(__file__).parents[2] / "spac/captioner/terse.json")]
    caption_source(build_backend("template", styles=styles), "demo", DEMO, tmp_path, part_size=4, progress=False)
    truth = {r.source_ref: r.attributes for g in build_source("demo", **DEMO).identities() for r in g}
    for line in _lines(tmp_path):
        assert line["attributes"] == truth[line["source_ref"]].as_dict()
        assert [c["style"] for c in line["captions"]] == ["default", "terse"]
        for c in line["captions"]:
            assert extract_attributes(c["text"]) == truth[line["source_ref"]]
    with pytest.raises(ValueError, match="unknown style"):
        build_backend("template", styles=["no-such-style"])
    with pytest.raises(BackendError, match="known"):
        build_backend("no-such-backend")


def test_caption_cli_with_template_backend(tmp_path):
    from typer.testing import CliRunner

    from spac.cli import app

    args = ["caption", "--src", "demo", "--opt", "identities=2", "--opt", "images_per_identity=2", "--backend",
            "template", "--style", "default", "--out", str(tmp_path), "--part-size", "3", "--quiet"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "4 images in 2 parts" in res.output
    res = CliRunner().invoke(app, args)  # rerun: everything is done already
    assert res.exit_code == 0 and "2 done parts skipped" in res.output
    res = CliRunner().invoke(app, ["caption", "--src", "demo", "--backend", "spac", "--out", str(tmp_path / "x")])
    assert res.exit_code != 0 and "--model" in res.output
