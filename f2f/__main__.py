"""`python -m f2f`."""

import atexit
import logging
import os
import sys

from f2f.cli import main

# commands whose process ends without the interpreter's teardown: after a translate, freeing
# the loaded models and modules took ~0.9 s of the demo's ~10 s, with every output already
# committed (batch is not among them: its engines' own exit handlers stop their workers)
QUICK_EXIT_COMMANDS = ("translate",)


def _command(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)  # (global flags take no value)


def _exit_quickly(code: int) -> None:
    atexit._run_exitfuncs()  # what atexit would do (e.g. eSpeak's temporary folder), then
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no module teardown, no freeing memory the kernel takes back anyway


if __name__ == "__main__":
    arguments = sys.argv[1:]
    status = main(arguments)
    if _command(arguments) in QUICK_EXIT_COMMANDS:
        _exit_quickly(status)
    sys.exit(status)
