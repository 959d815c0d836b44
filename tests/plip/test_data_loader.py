"""plip.data: batches from shards built on the fly (shapes, P x K structure, phrase masks, rank/worker splits,
equal steps, exact replay from a batch position, clear errors instead of hangs)."""

import json
from dataclasses import replace

import pytest
import torch

from plip.data import DataConfig, TrainLoader, read_raw
from plip.sampling import assign_shards
from plip.synthetic import write_synthetic_shards
from plip.tokenizer import train_wordpiece
from spac.records import SLOTS, RecordError


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    return write_synthetic_shards(root, identities=24, images_per_identity=5, shards=4, val_identities=4)


@pytest.fixture(scope="module")
def tokenizer(shards, tmp_path_factory):
    texts = [c["text"] for s in sorted(shards.glob("train-*.tar")) for r in read_raw(s) for c in r["json"]["captions"]]
    return train_wordpiece(texts, tmp_path_factory.mktemp("tok"), vocab_size=200)


def _cfg(shards, **kw):
    base = dict(
        shards=str(shards),
        batch_size=8,
        images_per_identity=2,
        identity_buffer=6,
        num_workers=0,
        image_size=(64, 32),
        max_length=24,
        tokenizer=None,
    )
    return DataConfig(**{**base, **kw})


def test_batch_shapes_pk_structure_and_phrase_masks(shards, tokenizer):
    loader = TrainLoader(_cfg(shards), tokenizer)
    assert loader.steps_per_epoch == 15  # ceil(120 samples / 8)
    batches = list(loader.epoch(0))
    assert len(batches) == 15
    for batch in batches:
        assert batch.images.shape == (8, 3, 64, 32) and batch.images.dtype == torch.uint8
        assert batch.input_ids.shape == (8, 24)
        pids = batch.person_ids.view(4, 2)  # P = 4 identities x K = 2 images, grouped
        assert (pids == pids[:, :1]).all() and len(set(pids[:, 0].tolist())) == 4
        # every caption names gender, upper and lower: three phrases whose tokens carry the right slots
        for row in range(8):
            ids, slots = batch.phrase_ids[row], batch.phrase_slots[row]
            assert set(ids.unique().tolist()) == {0, 1, 2, 3}
            assert set(slots[ids > 0].tolist()) == {SLOTS.index(s) for s in ("gender", "upper", "lower")}
            assert (slots[ids == 0] == -1).all() and (batch.attention_mask[row][ids > 0] == 1).all()
            words = tokenizer.decode(batch.input_ids[row][slots == SLOTS.index("upper")])
            assert words.endswith("shirt")


def test_random_sampler_and_caption_draws(shards, tokenizer):
    loader = TrainLoader(_cfg(shards, sampler="random", sample_buffer=20), tokenizer)
    batches = list(loader.epoch(0))
    texts = {tokenizer.decode(b.input_ids[i], skip_special_tokens=True) for b in batches for i in range(len(b))}
    # both captions and the prompt caption ("man, red shirt, blue trousers": no "and") are drawn
    assert any(" wears " in t for t in texts) and any(" in a " in t for t in texts)
    assert any(" and " not in t for t in texts)


def test_replay_from_position_equals_uninterrupted_and_workers_do_not_change_order(shards, tokenizer):
    one = TrainLoader(_cfg(shards, num_workers=2), tokenizer)
    full = list(one.epoch(1))
    tail = list(one.epoch(1, start=5))
    assert len(tail) == len(full) - 5
    for a, b in zip(full[5:], tail, strict=True):
        assert torch.equal(a.images, b.images) and torch.equal(a.input_ids, b.input_ids)
        assert torch.equal(a.person_ids, b.person_ids)
    other_epoch = list(one.epoch(2))
    assert not all(torch.equal(a.person_ids, b.person_ids) for a, b in zip(full, other_epoch, strict=True))


def test_ranks_read_disjoint_shards_and_take_equal_steps(shards, tokenizer):
    seen, steps = [], []
    for rank in range(2):
        loader = TrainLoader(_cfg(shards, batch_size=8), tokenizer, rank=rank, world_size=2)
        assert loader.local_batch_size == 4
        batches = list(loader.epoch(0))
        steps.append(len(batches))
        seen.append({int(p) for b in batches for p in b.person_ids})
    assert steps[0] == steps[1] == 15
    assert not seen[0] & seen[1]


def test_assign_shards_partitions_every_epoch():
    names = [f"s{i}" for i in range(7)]
    for epoch in range(3):
        parts = [
            assign_shards(names, seed=1, epoch=epoch, rank=r, world_size=2, worker=w, num_workers=2)
            for r in range(2)
            for w in range(2)
        ]
        assert sorted(sum(parts, [])) == sorted(names) and all(parts)


def test_too_few_shards_raise_a_clear_error(shards, tokenizer):
    with pytest.raises(ValueError, match=r"4 shard\(s\) for 2 process\(es\) x 3 loader worker"):
        TrainLoader(_cfg(shards, num_workers=3), tokenizer, rank=0, world_size=2)


def test_empty_stream_raises_instead_of_spinning(tmp_path, tokenizer):
    import webdataset as wds

    for i in range(2):
        with wds.TarWriter(str(tmp_path / f"train-{i:06d}.tar")) as w:
            w.write({"__key__": f"k{i}", "cls": b"1"})  # a mis-keyed sample: no .jpg/.json
    (tmp_path / "train-000002.tar").write_bytes(b"\0" * 1024)  # an empty tar
    index = {"splits": {"train": {"shards": [{"tar": f"train-{i:06d}.tar", "samples": 4} for i in range(3)]}}}
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(RecordError, match="lacks .jpg/.png or .json"):
        list(TrainLoader(_cfg(tmp_path), tokenizer).epoch(0))
    index["splits"]["train"]["shards"] = [{"tar": "train-000002.tar", "samples": 4}]
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(RuntimeError, match="yielded no samples"):
        list(TrainLoader(_cfg(tmp_path), tokenizer).epoch(0))


def test_config_errors(shards, tokenizer):
    with pytest.raises(ValueError, match="not a multiple of data.images_per_identity"):
        TrainLoader(_cfg(shards, batch_size=6, images_per_identity=4), tokenizer)
    with pytest.raises(FileNotFoundError, match="index.json not found"):
        TrainLoader(replace(_cfg(shards), shards=str(shards / "nope")), tokenizer)
    with pytest.raises(ValueError, match="data.sampler"):
        _cfg(shards, sampler="pk")
