"""f2f's numpy speaker encoder gives resemblyzer's own (torch) numbers, imports no torch, and
reads its weights file without running whatever a pickle asks for."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from f2f.artifacts import Speech
from f2f.errors import WeightsNotFoundError

REPO = Path(__file__).resolve().parent.parent
RATE = 16_000


def synthetic_speech() -> np.ndarray:
    """Two vowel-like buzzes (formants near 700/1200/2500 Hz, 4 Hz syllables) around a 1 s
    silence that the VAD trims, at -36 dBFS so the volume normalisation has work to do."""
    rng = np.random.default_rng(0)

    def buzz(seconds: float, f0: float) -> np.ndarray:
        t = np.arange(int(seconds * RATE)) / RATE
        phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / RATE
        formants = np.array([700.0, 1200.0, 2500.0])
        wav = sum(np.exp(-(k * f0 - formants) ** 2 / (2 * 150.0 ** 2)).sum() * np.sin(k * phase)
                  for k in range(1, 40))
        return wav * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)

    wav = np.concatenate([buzz(1.0, 120.0), np.zeros(RATE), buzz(1.2, 150.0)])
    return (0.1 * wav / np.abs(wav).max() + 0.001 * rng.standard_normal(wav.size)).astype(
        np.float32)


@pytest.fixture(scope="module")
def clips(shared_dir: Path, grid_clip: Path) -> dict[str, np.ndarray]:
    from f2f.media import read_audio

    def audio(path: Path) -> np.ndarray:
        return np.asarray(read_audio(path, RATE).samples, np.float32)

    grid = audio(grid_clip)
    return {
        "grid": grid,
        "grid_quiet": (grid * 0.05).astype(np.float32),  # -45 dBFS: normalisation raises it
        "grid_s1_male": audio(shared_dir / "grid" / "s1" / "bbaf3s.mpg"),
        "grid_s4_female": audio(next(iter(sorted((shared_dir / "grid" / "s4").glob("*.mpg"))))),
        "talk_10s": audio(shared_dir / "talks" / "obama_weekly_address_10s.mp4"),
        "synthetic": synthetic_speech(),
    }


@pytest.fixture(scope="module")
def resemblyzer() -> Any:
    """resemblyzer itself (torch): the reference the numpy code must reproduce."""
    import torch

    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad imports the deprecated pkg_resources
        import resemblyzer
    resemblyzer.encoder = resemblyzer.VoiceEncoder("cpu", verbose=False)
    return resemblyzer


NAMES = ["grid", "grid_quiet", "grid_s1_male", "grid_s4_female", "talk_10s", "synthetic"]


@pytest.mark.parametrize("name", NAMES)
def test_speaker_embedding_is_resemblyzers(name: str, clips: dict[str, np.ndarray],
                                           resemblyzer: Any) -> None:
    from f2f import _dvector
    from f2f.voiceprint import speaker_embedding

    wav = clips[name]
    expected_trim = resemblyzer.preprocess_wav(wav, RATE)
    trimmed = _dvector.preprocess(wav)
    assert trimmed.size == expected_trim.size
    np.testing.assert_allclose(trimmed, expected_trim, rtol=1e-6, atol=1e-7)
    expected = resemblyzer.encoder.embed_utterance(expected_trim)
    got = speaker_embedding(Speech(wav, RATE))
    assert got.shape == (256,)
    assert np.abs(got - expected).max() < 1e-4


@pytest.mark.parametrize("name,step_s", [("talk_10s", 0.25), ("grid_s4_female", 0.5),
                                         ("synthetic", 0.1)])
def test_window_embeddings_are_resemblyzers_partials(name: str, step_s: float,
                                                     clips: dict[str, np.ndarray],
                                                     resemblyzer: Any) -> None:
    from f2f.voiceprint import window_embeddings

    wav = clips[name]
    _, expected, slices = resemblyzer.encoder.embed_utterance(
        wav, return_partials=True, rate=1.0 / step_s, min_coverage=0.5)
    got, centres = window_embeddings(Speech(wav, RATE), step_s)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-4
    np.testing.assert_allclose(centres, [(s.start + s.stop) / 2 / RATE for s in slices])


def test_mel_filterbank_is_librosas() -> None:
    import librosa.filters

    from f2f._dvector import mel_filterbank

    expected = librosa.filters.mel(sr=RATE, n_fft=400, n_mels=40)
    np.testing.assert_allclose(mel_filterbank(), expected, rtol=1e-6, atol=1e-9)


def test_embedding_imports_no_torch_librosa_or_scipy_signal() -> None:
    code = (
        "import sys, numpy as np\n"
        "from f2f.artifacts import Speech\n"
        "from f2f.voiceprint import speaker_embedding, window_embeddings\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_voiceprint_numpy import synthetic_speech\n"
        "speech = Speech(synthetic_speech(), 16000)\n"
        "assert speaker_embedding(speech).shape == (256,)\n"
        "assert window_embeddings(speech, 0.5)[0].shape[1] == 256\n"
        "heavy = ('torch', 'librosa', 'resemblyzer', 'scipy.signal', 'numba', 'pkg_resources')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


# ------------------------------------------------------------------------- the weights reader


def _legacy_file(path: Path, main: bytes, keys: list[str], storages: list[np.ndarray]) -> Path:
    """A file in torch's legacy layout around a hand-made main pickle."""
    with path.open("wb") as out:
        for header in (0x1950A86A20F9469CFC6C, 1001,
                       {"protocol_version": 1001, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 4}}):
            pickle.dump(header, out, protocol=2)
        out.write(main)
        pickle.dump(keys, out, protocol=2)
        for data in storages:
            out.write(np.int64(data.size).tobytes())
            out.write(data.astype("<f4").tobytes())
    return path


def test_reader_matches_torch_on_views_of_a_shared_storage(tmp_path: Path) -> None:
    import torch

    from f2f._torchfile import load_legacy_checkpoint

    flat = torch.arange(60, dtype=torch.float32)
    state = {"a": flat[10:40].view(5, 6), "b": flat[10:40].view(5, 6).t(), "c": flat[55:],
             "nested": [flat[:3]]}
    path = tmp_path / "legacy.pt"
    torch.save({"model_state": state, "step": 7}, path, _use_new_zipfile_serialization=False)
    loaded = load_legacy_checkpoint(path)
    assert loaded["step"] == 7
    for key in ("a", "b", "c"):
        np.testing.assert_array_equal(loaded["model_state"][key], state[key].numpy())
    np.testing.assert_array_equal(loaded["model_state"]["nested"][0], flat[:3].numpy())


def _text(value: str) -> bytes:
    return b"X" + len(value.encode()).to_bytes(4, "little") + value.encode()


def test_reader_refuses_a_pickle_that_calls_other_code(tmp_path: Path) -> None:
    import shlex

    from f2f._torchfile import load_legacy_checkpoint

    marker = tmp_path / "ran"
    main = b"\x80\x02cos\nsystem\n" + _text(f"touch {shlex.quote(str(marker))}") + b"\x85R."
    path = _legacy_file(tmp_path / "evil.pt", main, [], [])
    with pytest.raises(WeightsNotFoundError, match="refused global os.system"):
        load_legacy_checkpoint(path)
    assert not marker.exists()
    pickle.loads(main)  # the same bytes do run a command when unpickled without restriction
    assert marker.exists()


@pytest.mark.parametrize("offset,fits", [(0, True), (1, False)])
def test_reader_refuses_a_tensor_reaching_outside_its_storage(offset: int, fits: bool,
                                                              tmp_path: Path) -> None:
    from f2f._torchfile import load_legacy_checkpoint

    # {"w": _rebuild_tensor_v2(<storage "0" of 4 floats>, offset, (4,), (1,), False, {})}
    main = (b"\x80\x02}" + _text("w") + b"ctorch._utils\n_rebuild_tensor_v2\n((" + _text("storage")
            + b"ctorch\nFloatStorage\n" + _text("0") + _text("cpu") + b"K\x04NtQ"
            + b"K" + bytes([offset]) + b"K\x04\x85K\x01\x85\x89}tRs.")
    path = _legacy_file(tmp_path / "w.pt", main, ["0"], [np.arange(4, dtype=np.float32)])
    if fits:
        np.testing.assert_array_equal(load_legacy_checkpoint(path)["w"], np.arange(4))
    else:
        with pytest.raises(WeightsNotFoundError, match="outside its storage"):
            load_legacy_checkpoint(path)


def test_missing_weights_say_what_where_and_how(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from f2f import _dvector

    monkeypatch.setattr(_dvector, "ENCODER_SPEC", replace(
        _dvector.ENCODER_SPEC, package=("no_such_resemblyzer", "pretrained.pt")))
    _dvector.encoder.cache_clear()
    try:
        with pytest.raises(WeightsNotFoundError) as caught:
            _dvector.encoder()
    finally:
        _dvector.encoder.cache_clear()
    message = str(caught.value)
    assert "pretrained.pt" in message and "no_such_resemblyzer" in message
    assert "pip install resemblyzer==0.1.4" in message and "\n" not in message


def test_embeddings_computed_together_equal_one_by_one(clips: dict[str, np.ndarray]) -> None:
    """The VC gate embeds its clips in one encoder pass: each result must be that clip's own."""
    from f2f.voiceprint import speaker_embedding, speaker_embeddings

    names = ["grid", "talk_10s", "grid_s4_female", "synthetic"]
    together = speaker_embeddings([Speech(clips[n], RATE) for n in names])
    for name, embedding in zip(names, together, strict=True):
        assert np.abs(embedding - speaker_embedding(Speech(clips[name], RATE))).max() < 1e-5


def test_an_encoder_pass_split_over_threads_equals_one_pass(clips: dict[str, np.ndarray]) -> None:
    """The VC gate splits its one encoder pass over the cores: each clip keeps its own
    embedding (up to float32 rounding) and its place in the list."""
    from f2f.voiceprint import speaker_embeddings

    speeches = [Speech(clips[n], RATE) for n in ("grid", "talk_10s", "grid_s4_female",
                                                  "synthetic")]
    one = speaker_embeddings(speeches)
    for threads in (2, 3):
        split = speaker_embeddings(speeches, threads)
        assert len(split) == len(one)
        for a, b in zip(one, split, strict=True):
            assert np.abs(a - b).max() < 1e-5
