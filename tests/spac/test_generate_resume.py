"""Killing `spac generate` (SIGKILL) mid-run and rerunning it gives the bytes of an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from spac.shards import validate

ROOT = Path(__file__).resolve().parents[2]
# one identity per shard (max_samples 6): phase 2 writes many shards, so there is time to kill it between them
ARGS = ["generate", "--src", "demo", "--opt", "identities=16", "--seed", "3", "--val-fraction", "0.25", "--quiet",
        "--set", "shards.max_samples=6", "--set", "shards.records_per_unit=12"]


def _spac(out, *extra, wait=True):
    cmd = [sys.executable, "-c", "from spac.cli import main; main()", *ARGS, "--out", str(out), *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if wait:
        output = proc.communicate(timeout=120)[0].decode()
        assert proc.returncode == 0, output
    return proc


def _kill_when(proc, pattern_dir, pattern, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pattern_dir.is_dir() and any(pattern_dir.glob(pattern)):
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and any worker it started
            proc.wait()
            return
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {pattern} appeared:\n{proc.stdout.read().decode()}")
        time.sleep(0.005)
    raise AssertionError(f"{pattern} did not appear in {timeout} s")


def _files(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_sigkill_twice_then_rerun_matches_an_uninterrupted_run(tmp_path):
    from typer.testing import CliRunner

    from spac.cli import app

    reference, killed = tmp_path / "reference", tmp_path / "killed"
    res = CliRunner().invoke(app, [*ARGS, "--out", str(reference)])  # in-process: the same command, uninterrupted
    assert res.exit_code == 0, res.output
    # kill once after the first work unit is done, once after the first shard is done, then finish
    _kill_when(_spac(killed, "--workers", "2", wait=False), killed / ".work", "unit-*.json")
    assert not (killed / "index.json").exists()
    _kill_when(_spac(killed, wait=False), killed / "meta", "*.stats.json")
    assert not (killed / "index.json").exists()
    done_before = len(list((killed / "meta").glob("*.stats.json")))
    assert done_before >= 1
    _spac(killed)
    assert _files(killed) == _files(reference)
    assert validate(killed).ok
