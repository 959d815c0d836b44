"""The README opens with the two fresh-machine commands, and CI runs exactly the second one."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_starts_with_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("bash scripts/demo.sh") and commands[1].endswith("pytest")
    assert all("pip install torch==2.13.0" in c for c in commands)
    assert (ROOT / "scripts" / "demo.sh").exists()


def test_ci_runs_the_readme_test_command():
    assert _readme_commands()[1] in (ROOT / ".ci" / "run").read_text()
