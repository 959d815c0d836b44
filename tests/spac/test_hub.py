"""`spac publish`: the exact file list, the calls made on a (fake) HfApi, and refusals naming the folder."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from card_fixtures import copy_build  # noqa: E402

from spac.hub import PublishError, publish  # noqa: E402


class FakeApi:
    """Records calls; "uploads" by applying allow_patterns the way huggingface_hub does, into ``self.repo``."""

    def __init__(self, drop: str | None = None):
        self.calls: list[tuple[str, dict]] = []
        self.repo: list[str] = []
        self.drop = drop  # a file the fake "forgets" to upload

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kw}))

    def create_branch(self, repo_id, **kw):
        self.calls.append(("create_branch", {"repo_id": repo_id, **kw}))

    def upload_folder(self, **kw):
        self.calls.append(("upload_folder", kw))
        return self._apply(kw)

    def _apply(self, kw):
        from huggingface_hub.utils import filter_repo_objects

        root = Path(kw["folder_path"])
        local = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        picked = list(filter_repo_objects(local, allow_patterns=kw["allow_patterns"]))
        self.repo += [p for p in picked if p != self.drop]
        return picked

    def list_repo_files(self, repo_id, **kw):
        return list(self.repo)


@pytest.fixture
def out(tmp_path_factory, tmp_path):
    """A copy of the shared build with junk that must never be uploaded."""
    out = copy_build(tmp_path_factory, tmp_path)
    (out / ".work").mkdir()
    (out / ".work" / "unit-000000.pkl").write_bytes(b"x")
    (out / ".train-000000.tar.tmp").write_bytes(b"x")
    (out / "meta" / ".run.parquet.tmp").write_bytes(b"x")
    (out / ".cache" / "huggingface").mkdir(parents=True)
    (out / ".cache" / "huggingface" / "state").write_text("x")
    (out / "notes.txt").write_text("my notes")
    return out


EXPECTED_DATA = ["train-000000.tar", "train-000001.tar", "val-000000.tar", "meta/run.parquet",
                 "meta/train-000000.parquet", "meta/train-000000.stats.json", "meta/train-000001.parquet",
                 "meta/train-000001.stats.json", "meta/val-000000.parquet", "meta/val-000000.stats.json"]
EXPECTED_CARD = ["README.md", "stats.png", "sizes.json", "index.json"]


def test_dry_run_lists_exactly_the_intended_files(out):
    api = FakeApi()
    plan = publish(out, "user/persons", dry_run=True, api=api)
    assert api.calls == []
    assert plan.files == EXPECTED_DATA + EXPECTED_CARD
    assert plan.bytes == sum((out / p).stat().st_size for p in plan.files)


def test_publish_calls_the_api_with_the_right_arguments(out):
    api = FakeApi()
    plan = publish(out, "user/persons", private=True, revision="v1", api=api)
    names = [name for name, _ in api.calls]
    assert names == ["create_repo", "create_branch", "upload_folder", "upload_folder"]
    assert api.calls[0][1] == {"repo_id": "user/persons", "repo_type": "dataset", "private": True, "exist_ok": True}
    assert api.calls[1][1] == {"repo_id": "user/persons", "repo_type": "dataset", "branch": "v1", "exist_ok": True}
    data, card = api.calls[2][1], api.calls[3][1]
    for call in (data, card):
        assert call["repo_id"] == "user/persons" and call["repo_type"] == "dataset" and call["revision"] == "v1"
        assert call["folder_path"] == str(out)
    assert plan.files == EXPECTED_DATA + EXPECTED_CARD
    n = len(EXPECTED_DATA)  # data in the first commit, card and index in the last
    assert sorted(api.repo[:n]) == sorted(EXPECTED_DATA) and sorted(api.repo[n:]) == sorted(EXPECTED_CARD)


def test_publish_to_main_needs_no_branch_and_checks_the_repo_afterwards(out):
    api = FakeApi()
    publish(out, "user/persons", api=api)
    assert [n for n, _ in api.calls] == ["create_repo", "upload_folder", "upload_folder"]
    assert api.calls[0][1]["private"] is False and api.calls[1][1]["revision"] is None
    with pytest.raises(PublishError, match=r"not in the repo.*val-000000\.tar"):
        publish(out, "user/persons", api=FakeApi(drop="val-000000.tar"))


def test_large_folders_use_upload_large_folder_when_the_client_has_it(out):
    class LargeApi(FakeApi):
        def upload_large_folder(self, **kw):
            self.calls.append(("upload_large_folder", kw))
            return self._apply(kw)

    api = LargeApi()
    publish(out, "user/persons", api=api, large=True)
    assert [n for n, _ in api.calls] == ["create_repo", "upload_large_folder", "upload_folder"]
    assert api.calls[1][1]["repo_type"] == "dataset" and sorted(api.repo) == sorted(EXPECTED_DATA + EXPECTED_CARD)


def test_a_folder_failing_validation_is_refused(out):
    tar = out / "train-000001.tar"
    tar.write_bytes(tar.read_bytes()[:2048])
    api = FakeApi()
    with pytest.raises(PublishError, match=rf"(?s){out}: refusing to publish, `spac validate` finds .*train-000001\.tar"):
        publish(out, "user/persons", api=api)
    assert api.calls == []


def test_a_folder_without_card_is_refused(out, tmp_path):
    (out / "README.md").unlink()
    with pytest.raises(PublishError, match=rf"{out}: refusing to publish: .*README\.md not found.*spac card"):
        publish(out, "user/persons", dry_run=True)
    with pytest.raises(PublishError, match="not a finished shard folder"):
        publish(tmp_path, "user/persons", dry_run=True)


def test_cli_publish_dry_run(out):
    from typer.testing import CliRunner

    from spac.cli import app

    res = CliRunner().invoke(app, ["publish", str(out), "user/persons", "--dry-run", "--revision", "v1"])
    assert res.exit_code == 0, res.output
    listed = [line.split()[0] for line in res.output.splitlines() if line.startswith("  ")]
    assert listed == EXPECTED_DATA + EXPECTED_CARD and "datasets/user/persons@v1" in res.output
    (out / "README.md").unlink()
    res = CliRunner().invoke(app, ["publish", str(out), "user/persons", "--dry-run"])
    assert res.exit_code == 2 and "refusing to publish" in res.output
