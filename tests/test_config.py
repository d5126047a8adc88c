"""Config: defaults in code, TOML and --set overrides, unknown keys rejected with a suggestion."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from f2f.config import PipelineConfig, with_settings, load_config, parse_set_options
from f2f.errors import ConfigError


def test_defaults_are_the_offline_backends() -> None:
    config = PipelineConfig()
    assert (config.asr.backend, config.mt.backend, config.tts.backend, config.vc.backend,
            config.lipsync.backend) == ("faster-whisper", "lexicon", "espeak", "knn", "viseme")


def test_toml_then_flags_then_set(tmp_path: Path) -> None:
    path = tmp_path / "f2f.toml"
    path.write_text('target_language = "hi"\n[asr]\nbackend = "whisper"\nmodel = "small"\n'
                    '[timing]\nmax_stretch = 1.2\n')
    config = load_config(path, sets=["timing.max_stretch=1.3", "lipsync.batch_size=16"],
                         vc="none")
    assert config.asr.backend == "whisper" and config.asr.options == {"model": "small"}
    assert config.timing.max_stretch == 1.3
    assert config.vc.backend == "none"
    assert config.lipsync.options == {"batch_size": 16}


def test_switching_backend_drops_the_old_backends_options() -> None:
    config = load_config(sets=["asr.model=small"])
    config = with_settings(config, {"asr": "whisper"})
    assert config.asr.options == {}


def test_unknown_keys_suggest_the_close_match(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'max_stretch'"):
        load_config(sets=["timing.max_strech=1.1"])
    with pytest.raises(ConfigError, match="did you mean 'target_language'"):
        load_config(sets=["target_langage=hi"])
    with pytest.raises(ConfigError, match="expected a number"):
        load_config(sets=["timing.max_stretch=fast"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_set_options(["oops"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_resolved_config_round_trips_through_toml() -> None:
    config = load_config(sets=["asr.model=base.en", "timing.min_stretch=0.9"])
    again = PipelineConfig()
    again = with_settings(again, tomllib.loads(config.to_toml()))
    assert again.resolved_dict() == config.resolved_dict()  # backend defaults are written out


def test_the_config_tree_is_frozen_and_settings_make_a_new_one() -> None:
    import dataclasses

    base = load_config(sets=["lipsync.batch_size=4"])
    changed = with_settings(base, {"lipsync": {"face_index": 1}, "timing": {"max_stretch": 1.1},
                                   "speakers": True})
    assert changed.lipsync.options == {"batch_size": 4, "face_index": 1}
    assert changed.timing.max_stretch == 1.1 and changed.speakers
    # the original is untouched: a batch item's options never leak into the batch's config
    assert base.lipsync.options == {"batch_size": 4}
    assert base.timing.max_stretch == 1.25 and not base.speakers
    for node, name in ((base, "speakers"), (base.lipsync, "backend"), (base.timing, "max_stretch"),
                       (base.limits, "max_duration_s")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(node, name, None)
