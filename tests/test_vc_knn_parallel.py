"""The `knn` VC on several cores: the same decision and the same audio as on one, every dub clip
analysed once and warped once per fitted model, and no quality figure computed besides the
gate's own held-out check."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import Speech, SpeechSegments
from f2f.registry import get_backend_class
from fakes import espeak_dub
from stages.vc import _parallel

pytest.importorskip("pyworld", reason="pyworld not installed")
pytest.importorskip("resemblyzer", reason="resemblyzer not installed")
pytest.importorskip("espeakng_loader", reason="espeakng-loader not installed")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def s4_case(shared_dir: Path) -> tuple[SpeechSegments, Speech]:
    """A dub the gate converts (a female GRID speaker, the male eSpeak voice), longer than the
    gate's sample, so that clips beyond it are analysed during the conversion."""
    from f2f.media import read_audio

    clips = sorted((shared_dir / "grid" / "s4").glob("*.mpg"))
    reference = Speech(np.concatenate([read_audio(c, 16_000).samples for c in clips[:2]]),
                       16_000)
    dub = espeak_dub("नीला रंग अभी दो पर रखो", "लाल रंग में एफ तीन फिर से रखो",
                     "हरे रंग के साथ बी सात कृपया रखो", "सफेद रंग में जी एक अभी रखो")
    return dub, reference


def _convert(dub: SpeechSegments, reference: Speech, workers: int, tmp_path: Path,
             **config: object) -> tuple[SpeechSegments, dict[str, object]]:
    knn = get_backend_class("vc", "knn")
    backend = knn(knn.Config(**config))  # type: ignore[arg-type]
    backend.workers = workers
    out = backend.convert(dub, reference, tmp_path, lambda f, m: None)
    return out, backend.metrics


def test_two_workers_convert_exactly_as_one(s4_case: tuple[SpeechSegments, Speech],
                                             tmp_path: Path) -> None:
    """Threads change when each piece runs, never what comes out: the same choice, the same
    held-out scores (the encoder's batch split differs by float32 rounding only) and the same
    samples, also for clips the gate never saw."""
    dub, reference = s4_case
    one, one_metrics = _convert(dub, reference, 1, tmp_path, gate_sample_s=3.0)
    two, two_metrics = _convert(dub, reference, 2, tmp_path, gate_sample_s=3.0)
    assert one_metrics["vc_choice"] != "none"
    scores_one = one_metrics.pop("held_out_scores")
    scores_two = two_metrics.pop("held_out_scores")
    assert isinstance(scores_one, dict) and isinstance(scores_two, dict)
    assert scores_one.keys() == scores_two.keys()
    assert all(abs(scores_one[k] - scores_two[k]) < 2e-4 for k in scores_one)
    assert one_metrics == two_metrics
    for a, b in zip(one.segments, two.segments, strict=True):
        assert a.id == b.id and np.array_equal(a.speech.samples, b.speech.samples)


def test_each_clip_is_analysed_once_and_warped_once_per_fitted_model(
        s4_case: tuple[SpeechSegments, Speech], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """WORLD's envelope (CheapTrick) and aperiodicity (D4C) of each dub clip are measured once,
    whole; the clips the statistics are taken from are warped once for the gate's model and
    once for the refitted one (whose warp they are converted with), the others once."""
    from stages.vc import world_features as wf

    dub, reference = s4_case
    pw = wf.pyworld()
    # each clip is told by its samples (CheapTrick's input) and by its F0 (D4C's, the warp's)
    samples = [wf._world_samples(s.speech).tobytes() for s in dub.segments]
    f0s = [wf.analyze(s.speech, 40, aperiodicity=False).f0.tobytes() for s in dub.segments]
    envelopes: Counter[bytes] = Counter()
    aperiodicities: Counter[bytes] = Counter()
    warps: Counter[bytes] = Counter()
    real_cheaptrick, real_d4c, real_warp = pw.cheaptrick, pw.d4c, wf.warp_features

    def cheaptrick(x: np.ndarray, f0: np.ndarray, *args: object) -> np.ndarray:
        envelopes[x.tobytes()] += 1
        return real_cheaptrick(x, f0, *args)

    def d4c(x: np.ndarray, f0: np.ndarray, *args: object) -> np.ndarray:
        aperiodicities[f0.tobytes()] += 1
        return real_d4c(x, f0, *args)

    def warp(features: wf.WorldFeatures, alpha: float) -> wf.WorldFeatures:
        warps[features.f0.tobytes()] += 1
        return real_warp(features, alpha)
    monkeypatch.setattr(pw, "cheaptrick", cheaptrick)
    monkeypatch.setattr(pw, "d4c", d4c)
    monkeypatch.setattr(wf, "warp_features", warp)
    monkeypatch.setattr(wf, "STATISTICS_SAMPLE_S", 5.0)  # the last clips are beyond the sample
    _, metrics = _convert(dub, reference, 2, tmp_path, gate_sample_s=3.0)
    assert metrics["vc_choice"] != "none"
    in_sample = len(wf.sample_segments(dub.segments, 5.0))
    assert 0 < in_sample < len(dub.segments)
    for index, (x, f0) in enumerate(zip(samples, f0s, strict=True)):
        assert envelopes[x] == 1, index
        assert aperiodicities[f0] == 1, index
        assert warps[f0] == (2 if index < in_sample else 1), index


def test_only_the_gate_embeds_speech(s4_case: tuple[SpeechSegments, Speech], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Speaker similarity and MCD of the result belong to `eval`: a run embeds speech once, in
    the gate (the held-out half, the unconverted sample, each candidate), and reports the
    gate's held-out figures only."""
    from stages.vc import _gate

    dub, reference = s4_case
    calls: list[int] = []
    real = _gate.speaker_embeddings

    def embeddings(speeches: list[Speech], threads: int = 1) -> list[np.ndarray]:
        calls.append(len(speeches))
        return real(speeches, threads)
    monkeypatch.setattr(_gate, "speaker_embeddings", embeddings)
    _, metrics = _convert(dub, reference, 2, tmp_path)
    assert metrics["vc_choice"] != "none"
    scores = metrics["held_out_scores"]
    assert isinstance(scores, dict)
    assert calls == [2 + len(scores)]
    assert not [k for k in metrics if "mcd" in k or k.startswith("speaker_similarity")]


def test_workers_give_results_in_the_order_asked_and_raise_a_pieces_error() -> None:
    def slow_square(x: int) -> int:
        time.sleep(0.02 * (3 - x))  # the first asked ends last
        return x * x
    for workers in (1, 2):
        with _parallel.Workers(workers) as pool:
            assert pool.map(slow_square, [0, 1, 2, 3]) == [0, 1, 4, 9]
            failed = pool.submit(lambda: 1 // 0)
            with pytest.raises(ZeroDivisionError):
                failed.result()


def test_a_pinned_thread_count_limits_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch worker's OMP_NUM_THREADS is its share of the machine."""
    monkeypatch.setattr(_parallel, "machine_cpus", lambda: 8)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _parallel.default_workers() == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert _parallel.default_workers() == _parallel.MAX_WORKERS


def test_pyworld_loads_without_pkg_resources() -> None:
    """pyworld's package imports pkg_resources (0.23 s of every VC stage) only to read its own
    version: the compiled module is loaded directly, and `import pyworld` later reuses it."""
    code = ("import sys; from stages.vc import world_features as wf; pw = wf.pyworld(); "
            "assert 'pkg_resources' not in sys.modules, 'pkg_resources imported'; "
            "import numpy as np; x = np.sin(np.arange(1600) / 5.0); "
            "f0, t = pw.dio(x, 16000); assert f0.size == t.size > 0; "
            "import pyworld; assert pyworld.dio is pw.dio")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr


def test_one_worker_runs_a_piece_only_when_its_result_is_asked_for() -> None:
    """With one worker nothing runs ahead: a piece never asked for never runs, and a Ctrl-C in
    one piece is not held back while the pieces submitted after it run."""
    ran: list[int] = []

    def piece(x: int) -> int:
        ran.append(x)
        if x == 1:
            raise KeyboardInterrupt
        return x
    with _parallel.Workers(1) as pool:
        futures = [pool.submit(piece, x) for x in range(4)]
        assert ran == []
        assert futures[0].result() == 0
        with pytest.raises(KeyboardInterrupt):
            futures[1].result()
        assert ran == [0, 1]
        with pytest.raises(KeyboardInterrupt):  # asked again: the same outcome, not a rerun
            futures[1].result()
    assert ran == [0, 1]


def test_one_worker_analyses_no_dub_clip_before_a_pass_through(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Too little speaker speech: on one worker (a batch worker's share) the dub's sample is
    not analysed for nothing, as before there were threads."""
    from stages.vc import world_features as wf

    dub = espeak_dub("नीला रंग", "लाल रंग")
    t = np.arange(16_000 * 6) / 16_000  # four 0.14 s tones: ~0.14 s voiced per half
    reference = Speech((0.3 * np.sin(2 * np.pi * 140 * t) * (t % 1.5 < 0.14)).astype(np.float32),
                       16_000)
    analysed: list[int] = []
    real = wf.analyze

    def analyze(speech: Speech, *args: object, **kwargs: object) -> wf.WorldFeatures:
        analysed.append(speech.samples.size)
        return real(speech, *args, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(wf, "analyze", analyze)
    out, metrics = _convert(dub, reference, 1, tmp_path)
    assert out is dub and "too little speaker speech" in str(metrics["note"])
    assert analysed, "the speaker's halves are analysed"
    assert not {s.speech.samples.size for s in dub.segments} & set(analysed), analysed


_OVERLAPPING_STAGES = """
import threading
import numpy  # its BLAS loaded
from threadpoolctl import threadpool_info
from stages.vc import _parallel
def blas(): return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
seen = {"before": blas()}
first_in, second_in = threading.Event(), threading.Event()
def first():
    with _parallel.Workers(2):
        first_in.set(); second_in.wait(10)
thread = threading.Thread(target=first)
thread.start()
first_in.wait(10)
with _parallel.Workers(2):
    second_in.set(); thread.join(20)
    seen["second, after the first ended"] = blas()
seen["after both"] = blas()
print(sorted(seen.items()))
"""


def test_overlapping_stages_in_two_threads_keep_and_then_restore_the_blas_limit() -> None:
    """Two conversions at once in one process (the app runs requests on threads), the first to
    start ending first: the other keeps its one BLAS thread, and once both are done the process
    has its own thread count back (not one thread for good). In a fresh process with 2 BLAS
    threads, the last one out on the main thread: OpenBLAS does not always take a count set
    from another thread."""
    import os

    done = subprocess.run([sys.executable, "-W", "ignore", "-c", _OVERLAPPING_STAGES], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "2",
                               "OPENBLAS_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([("after both", [2]), ("before", [2]),
                                       ("second, after the first ended", [1])])


def test_leaving_early_never_starts_the_waiting_pieces_and_leaves_no_thread() -> None:
    """A pass-through or an error leaves the pool with pieces still queued: they never start,
    the ones running are waited for, and no worker thread outlives the conversion."""
    import threading

    ran: list[int] = []

    def piece(x: int) -> int:
        time.sleep(0.05)
        ran.append(x)
        return x
    with pytest.raises(RuntimeError):
        with _parallel.Workers(2) as pool:
            for x in range(20):
                pool.submit(piece, x)
            raise RuntimeError("the conversion failed")
    assert len(ran) <= 2, ran  # at most the two that had started
    assert not [t for t in threading.enumerate() if t.name.startswith("vc")]
