"""The demo source: deterministic bytes, visible ground-truth attributes, identities that differ."""

import hashlib
import io
import itertools
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from PIL import Image

from spac.records import SLOTS
from spac.sources import ImageReadError, SourceError, build_source, demo_vocabulary
from spac.sources.demo import COLOURS, JPEG_QUALITY, identity_look, image_shot, render_demo_image
from spac.sources.demo_render import render


def _all(source):
    return [r for group in source.identities() for r in group]


def test_same_seed_same_bytes_and_records():
    a = build_source("demo", identities=4, images_per_identity=3, seed=7)
    b = build_source("demo", identities=4, images_per_identity=3, seed=7)
    ra, rb = _all(a), _all(b)
    assert [r.to_dict() for r in ra] == [r.to_dict() for r in rb]
    assert [a.read_image(r) for r in ra] == [b.read_image(r) for r in rb]
    rebuilt = build_source(a.name, **a.options)  # what a worker process does
    assert [r.to_dict() for r in _all(rebuilt)] == [r.to_dict() for r in ra]
    other = build_source("demo", identities=4, images_per_identity=3, seed=8)
    assert [other.read_image(r) for r in ra[:3]] != [a.read_image(r) for r in ra[:3]]


def test_bytes_do_not_depend_on_the_process():
    code = ("import hashlib; from spac.sources.demo import render_demo_image; "
            "print(hashlib.sha256(render_demo_image(3, 5, 2)).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == hashlib.sha256(render_demo_image(3, 5, 2)).hexdigest()


def test_images_are_256x128_jpegs_and_differ_within_an_identity():
    source = build_source("demo", identities=2, images_per_identity=4, seed=0)
    group = next(source.identities())
    images = [source.read_image(r) for r in group]
    for data in images:
        img = Image.open(io.BytesIO(data))
        assert img.format == "JPEG" and img.mode == "RGB" and img.size == (128, 256)
    assert len(set(images)) == len(images)


def test_records_layout_and_attributes_consistent_per_identity():
    source = build_source("demo", identities=30, images_per_identity=5, seed=1)
    vocab = demo_vocabulary()
    groups = list(source.identities())
    assert [g[0].person_id for g in groups] == list(range(30))
    refs = [r.source_ref for g in groups for r in g]
    assert len(set(refs)) == len(refs) == 150
    for group in groups:
        assert len(group) == 5 and len({r.attributes for r in group}) == 1
        for record in group:
            assert record.source == "demo" and record.image is None and record.key == ""
            assert 1 <= record.camera <= 6
            for slot in SLOTS:
                value = getattr(record.attributes, slot)
                assert value in vocab[slot] or (slot == "belongings" and value is None), (slot, value)
    genders = {g[0].attributes.gender for g in groups}
    assert genders == {"man", "woman"}


def test_identities_usually_differ():
    looks = [identity_look(0, pid).attributes() for pid in range(200)]
    same = sum(a == b for a, b in itertools.combinations(looks, 2))
    assert same / (200 * 199 / 2) < 0.01
    assert len({a.upper for a in looks}) > 30 and any(a.belongings is None for a in looks)


def test_vocabulary_uses_lexicon_phrases():
    vocab = demo_vocabulary()
    assert "short black hair" in vocab["head"] and "long brown hair" in vocab["head"]
    assert {"red jacket", "white t-shirt", "blue jeans", "black shorts", "gray skirt", "white sneakers",
            "black shoes", "black backpack", "red handbag"} <= {v for vs in vocab.values() for v in vs}
    colours = set(COLOURS)
    for slot in ("upper", "lower", "shoes", "belongings"):
        assert all(v.split(" ", 1)[0] in colours for v in vocab[slot])


def _pixel(data, x, y):
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((int(x), int(y)))


def _close(rgb, ref, tol=45):
    return all(abs(a - b) <= tol for a, b in zip(rgb, ref, strict=True))


@pytest.mark.parametrize("pid", range(6))
def test_garment_colours_are_drawn_where_they_belong(pid):
    look = identity_look(11, pid)
    shot = replace(image_shot(11, pid, 0), back_view=False, lowres=False, gain=(1.0, 1.0, 1.0), noise=0.0,
                   dx=0.0, foot_margin=0.0, stride=0.5, swing=0.0, scale=0.9)
    data = render(replace(look, belonging=None), shot, quality=JPEG_QUALITY)
    u = 256 * shot.scale * look.stature
    top = 254 - u

    def shaded(name):
        return tuple(min(255, max(0, c + s)) for c, s in zip(COLOURS[name], look.shade, strict=True))

    assert _close(_pixel(data, 64 + 0.06 * u, top + 0.3 * u), shaded(look.upper[1]))  # chest, off the zipper
    foot_x = 64 + (0.045 * look.build + 0.0225) * u
    assert _close(_pixel(data, foot_x, top + 0.975 * u), shaded(look.shoes[1]))
    shin = _pixel(data, 64 + 0.06 * u, top + 0.84 * u)
    if look.lower[0] in ("jeans", "trousers") and look.shoes[0] != "boots":
        assert _close(shin, shaded(look.lower[1]), tol=70)  # jeans carry a faded panel
    elif look.lower[0] in ("shorts", "skirt") and look.shoes[0] != "boots":
        assert _close(shin, look.skin)


def test_bad_options_and_refs():
    with pytest.raises(SourceError, match="identities"):
        build_source("demo", identities=0)
    with pytest.raises(SourceError, match="seed"):
        build_source("demo", seed=-1)
    source = build_source("demo", identities=2, images_per_identity=2)
    record = next(source.identities())[0]
    with pytest.raises(ImageReadError) as err:
        source.read_image(replace(record, source_ref="nonsense"))
    assert err.value.reason == "bad_ref"
    with pytest.raises(ImageReadError):
        source.read_image(replace(record, source_ref="000005_00"))
