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


def test_package_data_globs_cover_every_shipped_data_file():
    """A non-editable install must carry the lexicon and template libraries (pyproject package-data globs)."""
    import glob
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    data = [p for pkg in ("spac", "plip") for p in (root / pkg).rglob("*") if p.suffix in {".json", ".txt", ".tsv"}]
    assert data, "expected shipped data files"
    for path in data:
        # package-data globs are relative to the innermost package directory holding an __init__.py
        pkg_dir = next(d for d in path.parents if (d / "__init__.py").is_file())
        rel = path.relative_to(pkg_dir).as_posix()
        covered = {m for g in globs for m in glob.glob(g, root_dir=pkg_dir, recursive=True)}
        assert rel in covered, f"{rel} (in {pkg_dir.name}) is not covered by {globs}"


def test_python_m_spac_cli_runs():
    out = subprocess.run([sys.executable, "-m", "spac.cli", "--help"], capture_output=True, text=True, check=True)
    assert "generate" in out.stdout
