"""Shard planning: rollover by count and bytes, whole identities only, val split identity-disjoint and seeded."""

from spac.generate_plan import IdentitySummary, choose_val, plan_shards, plan_units
from spac.records import PersonRecord
from spac.shards.layout import archive_bytes


def _ids(sizes, payload_per_image=1000):
    return [IdentitySummary(ordinal=i, unit=i // 3, person_id=100 + i, records=n, kept=n, payload=n * payload_per_image)
            for i, n in enumerate(sizes)]


def test_rollover_by_count_keeps_identities_whole():
    plans = plan_shards(_ids([3, 3, 3, 2, 5]), val=set(), max_samples=6, max_bytes=10**9)
    assert [p.ordinals for p in plans] == [(0, 1), (2, 3), (4,)]
    assert [p.samples for p in plans] == [6, 5, 5]
    assert [p.shard for p in plans] == [0, 1, 2] and {p.split for p in plans} == {"train"}
    assert plans[1].units == (0, 1)


def test_rollover_by_bytes_and_oversized_identity_alone():
    ids = _ids([2, 2, 9, 1], payload_per_image=4000)  # 8000 bytes per 2 images
    limit = archive_bytes(16000)  # two small identities fit, the third does not
    plans = plan_shards(ids, val=set(), max_samples=1000, max_bytes=limit)
    assert [p.ordinals for p in plans] == [(0, 1), (2,), (3,)]
    assert all(archive_bytes(p.payload) <= limit for p in plans if len(p.ordinals) > 1)


def test_fully_dropped_identities_stay_in_train_with_their_neighbours():
    ids = _ids([2, 0, 2])
    plans = plan_shards(ids, val={2}, max_samples=10, max_bytes=10**9)
    assert [(p.split, p.ordinals) for p in plans] == [("train", (0, 1)), ("val", (2,))]


def test_choose_val_is_seeded_disjoint_and_never_empties_a_split():
    ids = _ids([1] * 20)
    val = choose_val(ids, 0.25, seed=3)
    assert len(val) == 5 and val == choose_val(ids, 0.25, seed=3) and val != choose_val(ids, 0.25, seed=4)
    assert len(choose_val(ids, 0.01, seed=0)) == 1 and len(choose_val(_ids([1, 1]), 0.9, seed=0)) == 1
    assert choose_val(ids, 0.0, seed=0) == set()
    plans = plan_shards(ids, val=val, max_samples=4, max_bytes=10**9)
    train = {o for p in plans if p.split == "train" for o in p.ordinals}
    assert train.isdisjoint(val) and train | val == set(range(20))


def test_plan_units_cuts_between_identities():
    def ident(pid, n):
        return [PersonRecord(source="f", source_ref=f"{pid}/{i}", person_id=pid) for i in range(n)]

    units = list(plan_units([ident(0, 3), ident(1, 3), [], ident(3, 5), ident(4, 1)], records_per_unit=4))
    assert [(u, [o for o, _ in ids]) for u, ids in units] == [(0, [0, 1]), (1, [3]), (2, [4])]
