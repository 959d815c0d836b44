"""Publish a finished spac shard folder to the Hugging Face Hub as a dataset repo (``spac publish``).

Only the dataset goes up: the tars, ``meta/`` (ledgers and stats), ``index.json``, ``sizes.json``, the card
``README.md`` and ``stats.png``; ``.work/``, hidden files and temporary names never do. A folder that
:func:`spac.shards.validate` rejects, or whose card is missing or out of date, is refused before any network call.
Uploads go in two steps, data first and card/index last, so while a multi-commit upload runs the repo's card never
points at tars that are not there yet (INFRA.md §4.3). The API object is injectable (``api=``) so tests and
``--dry-run`` need no network.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spac.cards import CARD, card_problems
from spac.shards.layout import INDEX, META, SIZES

CARD_FILES = (CARD, "stats.png", SIZES, INDEX)  # uploaded last, in one commit
LARGE_BYTES = 50 * 2**30  # above this, a client that still has upload_large_folder (< 1.22) uses it for the data
SHOWN_PROBLEMS = 10


class PublishError(RuntimeError):
    """The folder cannot be published; the message names the folder and why."""


@dataclass(frozen=True)
class PublishPlan:
    """What :func:`publish` uploads: ``(path in repo, bytes)`` of the data files and of the card files."""

    folder: Path
    repo_id: str
    data: tuple[tuple[str, int], ...]
    card: tuple[tuple[str, int], ...]

    @property
    def files(self) -> list[str]:
        return [p for p, _ in self.data + self.card]

    @property
    def bytes(self) -> int:
        return sum(n for _, n in self.data + self.card)


def _skipped(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts) or rel.name.endswith(".tmp")


def plan_upload(folder: Path, repo_id: str) -> PublishPlan:
    """The files of ``folder`` that belong on the Hub, in upload order (no validation; see :func:`check_folder`)."""
    folder = Path(folder)
    data = sorted(p for p in folder.glob("*.tar") if not _skipped(p.relative_to(folder)))
    data += sorted(p for p in (folder / META).rglob("*") if p.is_file() and not _skipped(p.relative_to(folder)))
    card = [folder / name for name in CARD_FILES if (folder / name).is_file()]

    def listed(paths):
        return tuple((p.relative_to(folder).as_posix(), p.stat().st_size) for p in paths)

    return PublishPlan(folder=folder, repo_id=repo_id, data=listed(data), card=listed(card))


def check_folder(folder: Path, *, decode_images: bool = False) -> None:
    """Raise :class:`PublishError` unless ``folder`` passes ``spac validate`` and has an up-to-date card."""
    from spac.shards import validate

    folder = Path(folder)
    if not folder.is_dir():
        raise PublishError(f"{folder}: no such folder")
    report = validate(folder, decode_images=decode_images)
    if not report.ok:
        shown = "\n  ".join(report.problems[:SHOWN_PROBLEMS])
        more = len(report.problems) - SHOWN_PROBLEMS
        raise PublishError(f"{folder}: refusing to publish, `spac validate` finds {len(report.problems)} "
                           f"problem(s):\n  {shown}" + (f"\n  ... and {more} more" if more > 0 else ""))
    problems = card_problems(folder)
    if problems:
        raise PublishError(f"{folder}: refusing to publish: " + "; ".join(problems))


def publish(folder: Path, repo_id: str, *, private: bool = False, revision: str | None = None,
            token: str | None = None, dry_run: bool = False, api: Any = None, decode_images: bool = False,
            large: bool | None = None) -> PublishPlan:
    """Upload the shard folder ``folder`` to the dataset repo ``repo_id`` (created if needed); returns the plan.

    Args:
        private: create the repo private (an existing repo keeps its visibility).
        revision: branch to commit to (created from main when missing); default main.
        token: Hub token; default the logged-in one (``hf auth login`` / ``HF_TOKEN``).
        dry_run: validate and return the plan without touching the network.
        api: an ``HfApi``-like object (tests inject a fake); default ``HfApi(token=token)``.
        decode_images: also decode every image while validating (slow on big folders).
        large: use ``upload_large_folder`` for the data when the client has it; default: above ``LARGE_BYTES``.
    """
    check_folder(folder, decode_images=decode_images)
    plan = plan_upload(folder, repo_id)
    if dry_run:
        return plan
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if revision is not None:
        api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
    patterns = [glob.escape(p) for p, _ in plan.data]  # exact names: what is uploaded is what the plan lists
    if (large if large is not None else plan.bytes >= LARGE_BYTES) and hasattr(api, "upload_large_folder"):
        api.upload_large_folder(repo_id=repo_id, folder_path=str(plan.folder), repo_type="dataset",
                                revision=revision, private=private, allow_patterns=patterns)
    else:
        api.upload_folder(repo_id=repo_id, folder_path=str(plan.folder), repo_type="dataset", revision=revision,
                          allow_patterns=patterns, commit_message=f"spac: {len(plan.data)} shard and ledger files")
    api.upload_folder(repo_id=repo_id, folder_path=str(plan.folder), repo_type="dataset", revision=revision,
                      allow_patterns=[glob.escape(p) for p, _ in plan.card],
                      commit_message="spac: dataset card, stats and index")
    if hasattr(api, "list_repo_files"):
        remote = set(api.list_repo_files(repo_id, repo_type="dataset", revision=revision))
        missing = [p for p in plan.files if p not in remote]
        if missing:
            raise PublishError(f"{folder}: upload to {repo_id} finished but {len(missing)} file(s) are not in the "
                               f"repo: {missing[:SHOWN_PROBLEMS]}")
    return plan
