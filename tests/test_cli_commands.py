"""Sub-commands other packages provide (`eval`, `vc`) are declared by them, found through
f2f/commands.py, and share the core CLI's one error handler: one `error:` line on stderr with
the documented exit code, nothing on stdout."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from f2f.commands import SubCommand, provided_commands

REPO = Path(__file__).resolve().parent.parent


def f2f(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "f2f", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def assert_error(result: subprocess.CompletedProcess[str], pattern: str, code: int) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == "", result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and pattern in errors[0], result.stderr


def test_providers_declare_their_commands() -> None:
    commands = provided_commands()
    assert set(commands) == {"eval", "vc"}
    import importlib

    for command in commands.values():
        assert isinstance(command, SubCommand)
        module, _, function = command.target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), command


def test_core_cli_names_no_provider_module() -> None:
    tree = ast.parse((REPO / "f2f" / "cli.py").read_text(encoding="utf-8"))
    strings = [n.value for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    named = [s for s in strings if s.split(".")[0].split(":")[0] in ("eval", "stages", "lipgan")
             and ("." in s or ":" in s)]
    assert named == []


def test_help_lists_provided_commands() -> None:
    result = f2f("--help")
    assert result.returncode == 0
    assert "evaluation: sync, metrics" in result.stdout and "vc train SOURCE_DIR" in result.stdout


def test_training_command_errors_go_to_stderr(tmp_path: Path) -> None:
    result = f2f("vc", "train", str(tmp_path / "missing"), str(tmp_path), "--out",
                 str(tmp_path / "model"))
    assert_error(result, "not a folder of audio", 2)
    assert_error(f2f("vc"), "usage: python -m f2f vc train", 2)


def test_eval_errors_keep_their_exit_code_and_take_our_flags(tmp_path: Path) -> None:
    # -q after the provided command is the core CLI's flag, not an unknown eval argument
    result = f2f("eval", "mt", str(tmp_path / "missing.tsv"), "-q")
    assert_error(result, "MT test set not found", 3)
