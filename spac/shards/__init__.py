"""Shards: the on-disk WebDataset layout spac writes and plip reads (names, tars, ledgers, index, validation).

Public API: :func:`write_shard`, :func:`write_index`, :func:`list_shards`, :func:`iter_records`,
:func:`iter_samples`, :func:`read_index`, :func:`validate`. See :mod:`spac.shards.layout` for the folder layout.
"""

from spac.shards.layout import ShardError, make_key, shard_name, stats_path, tar_path
from spac.shards.ledger import LedgerRow, read_ledger, write_ledger
from spac.shards.reader import iter_records, iter_samples, list_shards, read_index
from spac.shards.validate import ValidationReport, validate
from spac.shards.writer import ShardItem, is_done, write_index, write_shard

__all__ = [
    "LedgerRow",
    "ShardError",
    "ShardItem",
    "ValidationReport",
    "is_done",
    "iter_records",
    "iter_samples",
    "list_shards",
    "make_key",
    "read_index",
    "read_ledger",
    "shard_name",
    "stats_path",
    "tar_path",
    "validate",
    "write_index",
    "write_ledger",
    "write_shard",
]
