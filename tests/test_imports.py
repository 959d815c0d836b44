"""Import rules of ARCHITECTURE.md §2: spac stays torch-free; records is stdlib-only."""

import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}; import sys; print('\\n'.join(sys.modules))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("module", ["spac", "spac.records", "spac.cli", "spac.sources"])
def test_spac_imports_without_torch(module):
    assert "torch" not in _modules_after(f"import {module}")


def test_records_is_stdlib_only():
    mods = _modules_after("import spac.records")
    third_party = {m.split(".")[0] for m in mods} & {"numpy", "PIL", "pyarrow", "webdataset", "typer", "torch"}
    assert not third_party
