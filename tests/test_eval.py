"""eval/: the LSE protocol, metric registry, statistics, conditions, ablation and dataset runs.

Pipeline runs use small in-test backends on a real GRID clip, so these tests are about eval/
itself; the real default backends are exercised by the documented demo in docs/eval.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eval.ablate import grid_conditions, parse_vary
from eval.cli import main
from eval.conditions import DEFAULT_CONDITIONS, choose_conditions, conditions_from_file
from eval.lips import Wav2LipExpert, lse, lse_from_features, reconstruction
from eval.metrics import HIGHER, LOWER, all_metrics, get_metric
from eval.summary import describe, table
from f2f import media
from f2f.artifacts import (
    PhonemeEvent,
    Segment,
    SegmentSpeech,
    Speech,
    SpeechSegments,
    Transcript,
)
from f2f.errors import ConfigError
from f2f.registry import register
from f2f.stage import ASRBackend, LipSyncBackend, MTBackend, TTSBackend, VCBackend
from fakes import rewrite_frames, scaled, translated
from mediafactory import make_audio, make_video


@register
class EvalASR(ASRBackend):
    name = "evaltest-asr"

    def transcribe(self, audio, language, progress):
        # one word of six wrong: the WER figure must come from comparing with the reference
        return Transcript(language, (Segment(0, "bin blue at f three now", 0.3, 2.5),),
                          backend=self.name)


@register
class EvalMT(MTBackend):
    name = "evaltest-mt"

    def translate(self, transcript, target_language, progress):
        return translated(transcript, target_language, lambda s: "नीला अभी", self.name)


@register
class EvalTTS(TTSBackend):
    name = "evaltest-tts"

    def synthesize(self, translation, progress):
        n = int(16000 * 1.5)
        envelope = (np.sin(np.arange(n) * 2 * np.pi * 3 / 16000) > 0).astype(np.float32)
        tone = 0.3 * envelope * np.sin(np.arange(n) * 2 * np.pi * 180 / 16000)
        return SpeechSegments(tuple(
            SegmentSpeech(s.id, s.text, Speech(tone.astype(np.float32), 16000),
                          (PhonemeEvent("a", 0.0, 1.5),)) for s in translation.segments),
            backend=self.name)


@register
class EvalVC(VCBackend):
    name = "evaltest-vc"

    def convert(self, speech, reference, cache_dir, progress):
        return scaled(speech, 0.8, self.name)


@register
class EvalLipSync(LipSyncBackend):
    name = "evaltest-lipsync"

    def sync(self, video, track, out_path, progress):
        return rewrite_frames(video, track, out_path, lambda frame: frame)


STAGES = ["--set=asr=evaltest-asr", "--set=mt=evaltest-mt", "--set=tts=evaltest-tts",
          "--set=vc=evaltest-vc", "--set=lipsync=evaltest-lipsync"]


# ------------------------------------------------------------------------------ pure parts


def test_lse_finds_the_shift_and_scores_synced_features_best() -> None:
    rng = np.random.default_rng(0)
    video = rng.normal(size=(60, 8))
    same = lse_from_features(video, video)
    assert same.lse_d == pytest.approx(0.0) and same.offset_frames == 0
    assert same.lse_c > 0 and len(same.mean_distances) == 31
    # audio row i + 3 matches video row i: the audio comes 3 frames late
    audio = np.vstack([rng.normal(size=(3, 8)), video[:-3]])
    shifted = lse_from_features(video, audio)
    assert shifted.offset_frames == -3
    noise = lse_from_features(video, rng.normal(size=(60, 8)))
    assert noise.lse_d > same.lse_d and noise.lse_c < same.lse_c
    with pytest.raises(ValueError):
        lse_from_features(video, rng.normal(size=(60, 5)))


def test_metric_registry_knows_directions_and_suggests_names() -> None:
    names = {m.name for m in all_metrics()}
    assert {"wer", "chrf", "speaker_similarity", "sync_confidence", "lse_d", "lse_c", "psnr",
            "ssim", "lmd", "fid", "mcd", "f0_rmse"} <= names
    assert get_metric("wer").direction == LOWER and get_metric("lse_c").direction == HIGHER
    assert get_metric("chrf").better(60.0, 50.0) and not get_metric("wer").better(0.5, 0.2)
    assert get_metric("wer")("bin blue now", "bin blue") == pytest.approx(1 / 3)
    with pytest.raises(ConfigError, match="did you mean 'lse_d'"):
        get_metric("lse-d")


def test_describe_gives_mean_std_and_t_interval() -> None:
    stats = describe([1, 2, 3, 4, 5])
    assert stats.mean == 3 and stats.n == 5
    assert stats.std == pytest.approx(1.5811, abs=1e-4)
    assert stats.ci95 == pytest.approx(2.776 * 1.5811 / 5 ** 0.5, abs=1e-3)
    assert describe([4.0]).n == 1 and describe([]).n == 0
    text = table({"a": {"x": stats}, "b": {"x": describe([5, 5])}}, ["x"], {"x": "higher"})
    assert "**5.00" in text and "n=5" in text


def test_conditions_are_data_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('[[condition]]\nname = "wav2lip"\ndescription = "W"\n'
                    'set = ["lipsync=wav2lip"]\n', encoding="utf-8")
    js = tmp_path / "c.json"
    js.write_text(json.dumps([{"name": "m2", "set": "lipsync=viseme", "manual_audio": True}]))
    extra = conditions_from_file(toml) + conditions_from_file(js)
    assert extra[0].overrides == ("lipsync=wav2lip",) and extra[1].needs_manual_audio
    chosen = choose_conditions(None, extra)
    assert [c.name for c in chosen][:6] == [c.name for c in DEFAULT_CONDITIONS]
    assert len(chosen) == 8
    assert [c.name for c in choose_conditions(["4", "wav2lip"], extra)] == \
        ["tts_vc_lipsync", "wav2lip"]
    with pytest.raises(ConfigError, match="unknown condition"):
        choose_conditions(["nope"])
    bad = tmp_path / "bad.toml"
    bad.write_text('[[condition]]\nname = "x"\nsett = []\n')
    with pytest.raises(ConfigError, match="unknown keys"):
        conditions_from_file(bad)


def test_ablation_grid_has_one_cell_per_combination() -> None:
    axes = parse_vary(["lipsync=none,viseme,wav2lip", "vc=none,world"])
    cells = grid_conditions(axes)
    assert len(cells) == 6 and len({c.name for c in cells}) == 6
    assert cells[0].overrides == ("lipsync=none", "vc=none")
    with pytest.raises(ConfigError):
        parse_vary(["lipsync"])


# ------------------------------------------------------------------------------ on real video


def test_reconstruction_of_a_video_against_itself_is_perfect(grid_clip: Path) -> None:
    result = reconstruction(grid_clip, grid_clip, max_frames=6)
    assert result.frames == 6 and result.ssim == pytest.approx(1.0)
    assert result.lmd == pytest.approx(0.0) and result.psnr >= 99


def test_lse_runs_with_a_tiny_wav2lip_expert(grid_clip: Path) -> None:
    import torch

    from lipgan.models.syncnet import SyncNetColor, SyncNetConfig

    torch.manual_seed(0)
    expert = Wav2LipExpert(SyncNetColor(SyncNetConfig(width=0.0625)), name="tiny")
    result = lse(grid_clip, expert)
    assert result.windows == 71 and len(result.mean_distances) == 31
    distances = result.mean_distances
    assert result.lse_d == pytest.approx(min(distances)) and result.lse_d > 0
    assert result.lse_c == pytest.approx(float(np.median(distances)) - min(distances))
    assert result.offset_frames == 15 - distances.index(min(distances))


def test_conditions_command_writes_videos_metrics_report_and_plot(
        grid_clip: Path, grid_dir: Path, tmp_path: Path) -> None:
    dub = make_audio(tmp_path / "dub.wav", seconds=2.0, kind="noise")
    out = tmp_path / "six"
    code = main(["conditions", str(grid_clip), "--out", str(out), "--manual-audio", str(dub),
                 "--references", str(grid_dir / "transcripts.tsv"), "--no-speech",
                 "--expert", "none", *STAGES])
    assert code == 0
    names = [c.name for c in DEFAULT_CONDITIONS]
    for name in names:
        info = media.probe(out / f"{name}.mp4")
        assert info.has_audio and info.frame_count == 75
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert [c["condition"]["name"] for c in metrics["conditions"]] == names
    assert metrics["input_metrics"]["wer"] == pytest.approx(1 / 6, abs=1e-4)
    for entry in metrics["conditions"]:
        assert "sync_confidence" in entry["metrics"], entry["not_measured"]
    assert metrics["directions"]["sync_confidence"] == "higher"
    assert "stretch_mean" in metrics["conditions"][1]["metrics"]
    assert "lse_d" in metrics["not_measured"] and "roundtrip_cer" in metrics["not_measured"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| 6 | manual_lipsync |" in report and "Not measured here" in report
    assert (out / "metrics.png").stat().st_size > 1000
    manifest = json.loads((out / "conditions.json").read_text())
    assert len(manifest) == 6 and manifest[0]["subtitles"].endswith(".hi.vtt")


def test_manual_conditions_are_skipped_without_manual_audio(grid_clip: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "two"
    assert main(["conditions", str(grid_clip), "--out", str(out), "--conditions", "2", "5",
                 "--no-speech", "--no-sync", *STAGES]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    skipped = {c["condition"]["name"]: c["skipped"] for c in metrics["conditions"]}
    assert skipped["tts"] == "" and "--manual-audio" in skipped["manual"]
    assert not (out / "manual.mp4").exists() and (out / "tts.mp4").exists()


def test_dataset_aggregates_over_clips_and_ablate_tabulates(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    for i in range(2):
        make_video(clips / f"c{i}.mp4", seconds=1.0, audio="noise")
    out = tmp_path / "ds"
    assert main(["dataset", str(clips), "--out", str(out), "--conditions", "tts", "tts_vc",
                 "--no-speech", "--no-sync", *STAGES]) == 0
    data = json.loads((out / "dataset.json").read_text())
    assert data["conditions"]["tts"]["stretch_mean"]["n"] == 2
    assert "stretch_mean" in (out / "dataset.md").read_text()
    grid = tmp_path / "grid"
    assert main(["ablate", str(clips / "c0.mp4"), "--out", str(grid), "--vary",
                 "vc=none,evaltest-vc", "--no-speech", "--no-sync", *STAGES]) == 0
    ablation = json.loads((grid / "ablation.json").read_text())
    assert ablation["axes"] == {"vc": ["none", "evaltest-vc"]}
    assert len(ablation["conditions"]) == 2 and (grid / "ablation.md").is_file()


def test_bad_inputs_get_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["conditions", str(tmp_path / "missing.mp4"), "--out", str(tmp_path)]) == 3
    assert "not found" in capsys.readouterr().err
    assert main(["summarize", str(tmp_path)]) == 3
    assert "nobody has rated yet" in capsys.readouterr().err
