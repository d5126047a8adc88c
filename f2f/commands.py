"""Sub-commands that other packages provide (`python -m f2f eval ...`, `python -m f2f vc ...`).

A provider declares a `SubCommand` in one of its modules and names it in pyproject.toml under
[project.entry-points."f2f.commands"]; the core CLI only lists and dispatches them, so it knows
no provider by name. The command's function takes the rest of the command line and returns
an exit code; it is imported only when its command runs.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

GROUP = "f2f.commands"
# the checkout this f2f runs from: its pyproject.toml is the truth there, installed or not
_CHECKOUT_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@dataclass(frozen=True)
class SubCommand:
    name: str
    help: str
    target: str  # "module:function"; function(argv: list[str]) -> int

    def run(self, argv: list[str]) -> int:
        module, _, function = self.target.partition(":")
        return int(getattr(importlib.import_module(module), function)(argv) or 0)


def _declared() -> dict[str, str]:
    """name -> "module:attribute" of each declared SubCommand."""
    if _CHECKOUT_PYPROJECT.is_file():
        project = tomllib.loads(_CHECKOUT_PYPROJECT.read_text(encoding="utf-8"))["project"]
        if project.get("name") == "f2f":
            return dict(project.get("entry-points", {}).get(GROUP, {}))
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def provided_commands() -> dict[str, SubCommand]:
    """Every declared sub-command by name (importing only the light declaring modules)."""
    commands = {}
    for name, ref in sorted(_declared().items()):
        module, _, attribute = ref.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, SubCommand) or command.name != name:
            raise TypeError(f"entry point {GROUP} {name} = {ref!r} is not SubCommand {name!r}")
        commands[name] = command
    return commands
