"""Bad input never loses a record: every drop is in a ledger with its reason, bad join lines in the run ledger."""

import io
import json

import pytest
from PIL import Image

from spac.generate import GenerateConfig, GenerateError, ShardConfig, SourceConfig, generate
from spac.records import Attributes, PersonRecord
from spac.shards import iter_records, read_ledger, validate
from spac.sources.base import ImageReadError, Source, register_source
from spac.steps.identity_balance import IdentityBalanceConfig

GOOD = Attributes(gender="woman", head="long black hair", upper="red jacket", lower="blue jeans",
                  shoes="white sneakers")


def _image(kind: str, i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 64), (i * 30 % 256, 100, 50)).save(buf, format="PNG" if kind == "png" else "JPEG")
    data = buf.getvalue()
    return data[: len(data) // 2] if kind == "truncated" else data


@register_source
class FakeSource(Source):
    """Identities described by strings: 'j' jpeg, 'p' png, 't' truncated jpeg, 'm' missing, 'u' unknown attrs."""

    name = "fake-bad-input"

    def __init__(self, *, layout=("jjjj", "jtmp", "jjuj", "jj")) -> None:
        super().__init__(layout=layout)
        self.layout = layout

    def identities(self):
        for pid, kinds in enumerate(self.layout):
            yield [PersonRecord(source=self.name, source_ref=f"{pid}/{i}{k}", person_id=pid,
                                attributes=Attributes(gender="man") if k == "u" else GOOD)
                   for i, k in enumerate(kinds)]

    def read_image(self, record):
        kind = record.source_ref[-1]
        if kind == "m":
            raise ImageReadError(f"{record.source_ref}: no such file", reason="missing_image")
        return _image({"j": "jpeg", "u": "jpeg", "p": "png", "t": "truncated"}[kind], int(record.source_ref[0]))


def _cfg(**kw):
    base = dict(source=SourceConfig(name="fake-bad-input"), shards=ShardConfig(max_samples=5, records_per_unit=4),
                identity_balance=IdentityBalanceConfig(min_images=3, max_images=3))
    return GenerateConfig(**{**base, **kw})


def _rows(out):
    return {r.source_ref: r for p in sorted((out / "meta").glob("*-*.parquet")) for r in read_ledger(p)}


def test_every_input_record_is_kept_or_dropped_with_its_reason(tmp_path):
    out = tmp_path / "out"
    summary = generate(_cfg(), out, workers=1, progress=False)
    rows = _rows(out)
    assert len(rows) == 14
    reasons = {ref: (r.status, r.reason) for ref, r in rows.items()}
    assert reasons["1/1t"] == ("dropped", "corrupt_image")
    assert reasons["1/2m"] == ("dropped", "missing_image") and "no such file" in rows["1/2m"].detail
    assert reasons["1/0j"] == ("dropped", "identity_too_small")  # 2 images left < min 3
    assert reasons["2/2u"] == ("dropped", "attribute_quality")
    assert reasons["3/0j"] == ("dropped", "identity_too_small")
    capped = [ref for ref in rows if ref.startswith("0/") and rows[ref].reason == "identity_capped"]
    assert len(capped) == 1  # 4 images, max 3: a seeded choice of one to drop
    assert summary.kept == 6 and summary.dropped == {"attribute_quality": 1, "corrupt_image": 1,
                                                     "identity_capped": 1, "identity_too_small": 4,
                                                     "missing_image": 1}
    assert validate(out).ok


def test_png_is_reencoded_and_filters_can_be_switched_off(tmp_path):
    from spac.steps.attribute_quality import AttributeQualityConfig

    cfg = _cfg(identity_balance=IdentityBalanceConfig(enabled=False),
               attribute_quality=AttributeQualityConfig(enabled=False))
    out = tmp_path / "out"
    generate(cfg, out, workers=1, progress=False)
    records = {r.source_ref: r for r in iter_records(out, "train")}
    assert records["1/3p"].image[:2] == b"\xff\xd8"  # PNG re-encoded to JPEG
    assert "2/2u" in records and len(records) == 12  # only the corrupt and the missing image dropped


def test_join_lines_are_joined_or_listed_in_the_run_ledger(tmp_path):
    caps = tmp_path / "caps"
    caps.mkdir()
    lines = [
        {"source": "fake-bad-input", "source_ref": "0/0j", "generator": "g", "revision": "r1",
         "attributes": {"gender": "woman", "head": "short black hair", "upper": "blue coat", "lower": "black skirt",
                        "shoes": "unknown", "belongings": None},
         "captions": [{"text": "A woman in a blue coat.", "style": "cuhk", "generator": "g"}]},
        {"source_ref": "0/1j", "error": "decoder timeout"},
        {"source_ref": "nobody/0", "captions": []},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n{not json\n" + json.dumps({"captions": []}) + "\n"
    (caps / "part-00000.jsonl").write_text(text)
    ann = tmp_path / "ann.jsonl"
    ann.write_text(json.dumps({"source_ref": "ghost/1", "attributes": {"gender": "man"}}) + "\n")
    out = tmp_path / "out"
    cfg = _cfg(captions=str(caps), attributes=str(ann), identity_balance=IdentityBalanceConfig(enabled=False))
    summary = generate(cfg, out, workers=1, progress=False)
    rows = _rows(out)
    assert rows["0/1j"].reason == "captioner_error" and "decoder timeout" in rows["0/1j"].detail
    assert rows["0/2j"].reason == "missing_captions"
    kept = next(iter_records(out, "train"))
    assert kept.source_ref == "0/0j" and kept.attributes.upper == "blue coat" and kept.attributes.shoes is None
    assert [c.text for c in kept.captions] == ["A woman in a blue coat."]
    assert kept.provenance["captioner"] == {"generator": "g", "revision": "r1"}
    run = read_ledger(out / "meta" / "run.parquet")
    got = sorted((r.status, r.reason, r.source_ref) for r in run)
    assert got == [("invalid", "malformed_json", None), ("invalid", "missing_source_ref", None),
                   ("unmatched", "unknown_source_ref", "ghost/1"), ("unmatched", "unknown_source_ref", "nobody/0")]
    assert all("part-00000.jsonl:" in r.detail or "ann.jsonl:" in r.detail for r in run)
    assert summary.run_ledger == {"malformed_json": 1, "missing_source_ref": 1, "unknown_source_ref": 2}


def test_a_run_that_drops_everything_fails_loudly(tmp_path):
    with pytest.raises(GenerateError, match="all 6 input records were dropped.*identity_too_small"):
        generate(_cfg(source=SourceConfig(name="fake-bad-input", options={"layout": ("jj", "jjjj")}),
                      identity_balance=IdentityBalanceConfig(min_images=5, max_images=9)),
                 tmp_path / "out", workers=1, progress=False)


def test_missing_captions_file_is_a_clear_error(tmp_path):
    from spac.sources.base import SourceError

    with pytest.raises(SourceError, match="nope.jsonl: no such file"):
        generate(_cfg(captions=str(tmp_path / "nope.jsonl")), tmp_path / "out", workers=1, progress=False)
