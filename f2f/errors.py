"""One exception hierarchy for everything f2f raises on purpose.

The CLI turns any `F2FError` into one line and a non-zero exit code; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable


class F2FError(Exception):
    """Base of every error f2f raises for a user to read."""

    exit_code = 1


class ConfigError(F2FError):
    """A configuration value, flag or option is wrong."""

    exit_code = 2


class UnsupportedLanguageError(ConfigError):
    """The requested target language has no backend that can produce it."""


class MediaError(F2FError):
    """An input or output media file is missing, unreadable or unusable."""

    exit_code = 3


class NoSpeechError(MediaError):
    """The audio holds silence only, or no speech could be recognised."""

    exit_code = 4


class NoFaceError(MediaError):
    """No face was found where one is required."""

    exit_code = 5


class MissingDependencyError(F2FError):
    """A Python package or binary a backend needs is not installed."""

    exit_code = 6


class WeightsNotFoundError(F2FError):
    """Model weights were looked for and not found; the message says where and how to get them."""

    exit_code = 7


class StageError(F2FError):
    """A stage failed while running; earlier stages' cached work is kept."""

    exit_code = 8


def exit_code_of(exc: F2FError) -> int:
    """The documented exit code: a StageError caused by a more specific f2f error keeps that
    error's code (a backend that wraps a missing-weights error still exits 7)."""
    cause = exc.__cause__ or exc.__context__
    while type(exc) is StageError and isinstance(cause, F2FError):
        exc, cause = cause, cause.__cause__ or cause.__context__
    return exc.exit_code


def run_command(command: Callable[[], int | None], debug: bool = False) -> int:
    """The one error handler of every f2f command line: an F2FError becomes one `error:` line on
    stderr and its exit code (with `debug`, the traceback first, and still that code)."""
    try:
        return int(command() or 0)
    except F2FError as exc:
        return report_error(exc, debug)
    except KeyboardInterrupt:
        print("interrupted; finished stages stay cached", file=sys.stderr)
        return 130


def report_error(exc: F2FError, debug: bool = False) -> int:
    """Prints `exc` as one `error:` line on stderr (the traceback first with `debug`) and
    returns its exit code: what every f2f command does with an F2FError."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"error: {exc}", file=sys.stderr)
    return exit_code_of(exc)
