"""Pipeline configuration: dataclasses with defaults in code, overridden by TOML and `--set`.

    [asr]
    backend = "faster-whisper"
    model = "tiny.en"          # any other key is an option of the chosen backend's Config
    [timing]
    max_stretch = 1.2

`--set asr.model=base.en` does the same from the command line. Unknown keys are a ConfigError
with a close-match suggestion. The resolved config is written next to every output.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from f2f.cache import DEFAULT_MAX_GB
from f2f.errors import ConfigError
from f2f.stage import KINDS

DEFAULT_BACKENDS = {
    "asr": "faster-whisper",
    "mt": "lexicon",
    "tts": "espeak",
    "vc": "knn",
    "lipsync": "viseme",
}


@dataclass(frozen=True)
class StageChoice:
    """Which backend runs a stage ('none' switches it off) and that backend's options."""

    backend: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimingConfig:
    """How translated speech is fitted into the source segments' time slots."""

    min_stretch: float = 0.8  # duration factor: 0.8 = spoken 1.25x faster
    max_stretch: float = 1.25
    # Beyond ~1.15x speed-up a dub sounds hurried: speech is sped up to 1.1x (a margin under
    # it), then runs on into the following silence, and only then is sped up to min_stretch.
    comfortable_min_stretch: float = 1 / 1.1
    use_following_silence: bool = True
    allow_video_extension: bool = True  # freeze frames when speech still does not fit
    keep_background: bool = False
    background_gain_db: float = -18.0

    def check(self) -> None:
        """The stretch limits in order; one line naming what is wrong."""
        if not 0 < self.min_stretch <= 1 <= self.max_stretch:
            raise ConfigError("timing: need 0 < min_stretch <= 1 <= max_stretch")
        if not 0 < self.comfortable_min_stretch <= 1:
            raise ConfigError("timing: need 0 < comfortable_min_stretch <= 1")


@dataclass(frozen=True)
class LimitsConfig:
    max_duration_s: float = 3600.0  # longer inputs are refused with a clear message
    max_file_mb: float = 4096.0
    cache_max_gb: float = DEFAULT_MAX_GB  # beyond it, least recently used cache entries go


@dataclass(frozen=True)
class PipelineConfig:
    source_language: str = "en"
    target_language: str = "hi"
    asr: StageChoice = field(default_factory=lambda: StageChoice(DEFAULT_BACKENDS["asr"]))
    mt: StageChoice = field(default_factory=lambda: StageChoice(DEFAULT_BACKENDS["mt"]))
    tts: StageChoice = field(default_factory=lambda: StageChoice(DEFAULT_BACKENDS["tts"]))
    vc: StageChoice = field(default_factory=lambda: StageChoice(DEFAULT_BACKENDS["vc"]))
    lipsync: StageChoice = field(default_factory=lambda: StageChoice(DEFAULT_BACKENDS["lipsync"]))
    timing: TimingConfig = field(default_factory=TimingConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    device: str = "cpu"  # "cpu", "cuda", "cuda:1" or "auto"
    manual_translation: str | None = None  # a .txt (one line per segment) or .srt
    manual_dub_audio: str | None = None  # a target-language audio/video file
    subtitles: tuple[str, ...] = ("srt", "vtt")
    speakers: bool = False  # diarize; a voice and a lip-synced face per speaker (f2f.speakers)

    def stage(self, kind: str) -> StageChoice:
        if kind not in KINDS:
            raise ConfigError(f"unknown stage kind {kind!r}")
        return typing.cast(StageChoice, getattr(self, kind))

    def enabled(self, kind: str) -> bool:
        return self.stage(kind).backend != "none"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def resolved_dict(self) -> dict[str, Any]:
        """Every setting, each chosen backend's options included at their defaults: what
        `--config` needs to reproduce a run."""
        data = self.to_dict()
        for kind in KINDS:
            choice = self.stage(kind)
            table: dict[str, Any] = {"backend": choice.backend}
            if choice.backend != "none":
                table |= dataclasses.asdict(backend_config(kind, choice))
            data[kind] = table
        return data

    def to_toml(self) -> str:
        import tomli_w

        return tomli_w.dumps(_toml_ready(self.resolved_dict()))


# ------------------------------------------------------------------------- values and types


def parse_value(text: str) -> Any:
    """`--set` values: TOML scalars and arrays when they parse, else the plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Converts `value` to a dataclass field's annotated type, or raises ConfigError."""
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(typing) | {"Any": Any})  # noqa: S307 - our own hints
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is tuple or annotation is tuple:
        items = value if isinstance(value, (list, tuple)) else [value]
        inner = args[0] if args else Any
        return tuple(_coerce(v, inner, where) for v in items)
    if origin is list:
        items = value if isinstance(value, (list, tuple)) else [value]
        return [_coerce(v, args[0] if args else Any, where) for v in items]
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return dict(value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no",
                                                        "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        try:
            number = float(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: expected an integer, got {value!r}") from exc
        if not number.is_integer():
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return int(number)
    if annotation is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from exc
    if annotation is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return str(value)
    return value


def _unknown_key(key: str, known: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"unknown setting '{where}{key}'{hint}; known: {', '.join(sorted(known))}")


def build_dataclass(cls: type, values: dict[str, Any], where: str = "") -> Any:
    """Instantiates dataclass `cls` from a mapping, checking keys and coercing types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise _unknown_key(key, list(fields), where)
        kwargs[key] = _coerce(value, hints[key], f"{where}{key}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {where.rstrip('.') or cls.__name__} settings: {exc}") from exc


def backend_config(kind: str, choice: StageChoice) -> Any:
    """The chosen backend's own Config dataclass, built from `choice.options`."""
    from f2f.registry import get_backend_class

    cls = get_backend_class(kind, choice.backend)
    return build_dataclass(cls.Config, choice.options, f"{kind}.")


# ------------------------------------------------------------------------- building a config


def with_settings(config: PipelineConfig, settings: dict[str, Any],
                  where: str = "") -> PipelineConfig:
    """A new config: `config` with a nested mapping (from TOML or `--set`) applied. The config
    tree is frozen, so a run's settings cannot change under it; every change is a new tree."""
    top_fields = {f.name for f in dataclasses.fields(PipelineConfig)}
    changes: dict[str, Any] = {}
    for key, value in settings.items():
        if key in KINDS:
            choice = changes.get(key) or config.stage(key)
            if isinstance(value, str):  # `asr = "whisper"` is short for the backend
                value = {"backend": value}
            if not isinstance(value, dict):
                raise ConfigError(f"{where}{key}: expected a table or a backend name")
            backend, options = choice.backend, dict(choice.options)
            for option, option_value in value.items():
                if option == "backend":
                    if option_value != backend:
                        options = {}  # options belong to the previous backend
                    backend = str(option_value)
                else:
                    options[option] = option_value
            changes[key] = StageChoice(backend, options)
        elif key in ("timing", "limits"):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}{key}: expected a table")
            section = changes.get(key) or getattr(config, key)
            merged = dataclasses.asdict(section) | value
            changes[key] = build_dataclass(type(section), merged, f"{key}.")
        elif key in top_fields:
            hints = typing.get_type_hints(PipelineConfig)
            changes[key] = _coerce(value, hints[key], key)
        else:
            raise _unknown_key(key, sorted(top_fields), where)
    return dataclasses.replace(config, **changes)


def parse_set_options(pairs: list[str]) -> dict[str, Any]:
    """['asr.model=base.en', 'timing.max_stretch=1.2'] -> nested mapping."""
    nested: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects KEY=VALUE, got {pair!r}")
        dotted, raw = pair.split("=", 1)
        parts = [p for p in dotted.strip().split(".") if p]
        if not parts:
            raise ConfigError(f"--set expects KEY=VALUE, got {pair!r}")
        node = nested
        for part in parts[:-1]:
            if isinstance(node.get(part), str):  # `asr=whisper` then `asr.model=small`
                node[part] = {"backend": node[part]}
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {dotted}: conflicting keys")
        value = parse_value(raw.strip())
        if isinstance(node.get(parts[-1]), dict) and isinstance(value, str):
            node[parts[-1]]["backend"] = value  # `asr.model=small` then `asr=whisper`
        else:
            node[parts[-1]] = value
    return nested


def load_config(path: str | Path | None = None, sets: list[str] | None = None,
                **overrides: Any) -> PipelineConfig:
    """Defaults, then a TOML file, then keyword overrides (CLI flags), then `--set` pairs."""
    config = PipelineConfig()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        config = with_settings(config, data, "")
    if overrides:
        config = with_settings(config, {k: v for k, v in overrides.items() if v is not None})
    if sets:
        config = with_settings(config, parse_set_options(sets))
    return config


def validate(config: PipelineConfig) -> None:
    """Checks every chosen backend exists and its options fit its Config."""
    for kind in KINDS:
        if config.enabled(kind):
            backend_config(kind, config.stage(kind))
    config.timing.check()


def _toml_ready(value: Any) -> Any:
    """TOML has no null: unset (None) settings are left out, their default is None anyway."""
    if isinstance(value, dict):
        return {str(k): _toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_ready(v) for v in value if v is not None]
    if isinstance(value, (str, bool, int, float)):
        return value
    return str(value)  # paths and the like
