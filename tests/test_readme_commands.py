"""The README's two commands are what a newcomer types: CI runs the test one verbatim, both use
the virtual environment install.sh makes, and commands spell Python one way."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _two_commands() -> list[str]:
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_ci_runs_the_readme_test_command_exactly() -> None:
    install, tests = _two_commands()
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert ci == [tests]


def test_both_commands_use_the_virtual_environment() -> None:
    for command in _two_commands():
        assert command.startswith("bash scripts/install.sh")
        assert " .venv/bin/python -m " in command and "python3" not in command


def test_install_script_makes_and_uses_a_virtual_environment() -> None:
    script = (REPO / "scripts" / "install.sh").read_text()
    assert '-m venv "$venv"' in script
    pip_lines = [line for line in script.splitlines() if "pip install" in line
                 and not line.lstrip().startswith("#")]
    assert pip_lines and all(line.lstrip().startswith('"$venv/bin/python" -m pip')
                             for line in pip_lines)


def test_commands_spell_python_one_way() -> None:
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", text, flags=re.S)
        for block in blocks:
            assert not re.search(r"(^|\s)python3 ", block), (doc.name, block)
