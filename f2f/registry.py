"""Backends by (kind, name). Modules under `stages/<kind>/` register themselves on import."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import TypeVar

from f2f.errors import ConfigError
from f2f.stage import BASES, KINDS, Backend

_REGISTRY: dict[tuple[str, str], type[Backend]] = {}
_loaded_kinds: set[str] = set()
NONE = "none"  # the name that switches a stage off

B = TypeVar("B", bound=Backend)


def register(cls: type[B]) -> type[B]:
    """Class decorator: makes a backend selectable by its `name` within its `kind`."""
    _check_registrable(cls)
    _REGISTRY[(cls.kind, cls.name)] = cls
    return cls


def _check_registrable(cls: type[Backend]) -> None:
    key = (cls.kind, cls.name)
    if cls.kind not in KINDS:
        raise ValueError(f"unknown stage kind {cls.kind!r}")
    if not issubclass(cls, BASES[cls.kind]):
        raise TypeError(f"{cls.__name__} must subclass {BASES[cls.kind].__name__}")
    if key in _REGISTRY and _REGISTRY[key] is not cls:
        raise ValueError(f"backend {key} registered twice")


def _load_kind(kind: str) -> None:
    if kind in _loaded_kinds:
        return
    package = importlib.import_module(f"stages.{kind}")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"stages.{kind}.{module.name}")
    _loaded_kinds.add(kind)


def backend_names(kind: str) -> list[str]:
    if kind not in KINDS:
        raise ConfigError(f"unknown stage kind {kind!r}; kinds are: {', '.join(KINDS)}")
    _load_kind(kind)
    return sorted(name for (k, name) in _REGISTRY if k == kind)


def get_backend_class(kind: str, name: str) -> type[Backend]:
    names = backend_names(kind)
    if (kind, name) not in _REGISTRY:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"unknown {kind} backend '{name}'{hint}; "
                          f"choose one of: {', '.join(names + [NONE])}")
    return _REGISTRY[(kind, name)]


def all_backends() -> list[type[Backend]]:
    for kind in KINDS:
        _load_kind(kind)
    return [_REGISTRY[key] for key in sorted(_REGISTRY, key=lambda k: (KINDS.index(k[0]), k[1]))]
