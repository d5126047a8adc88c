"""The f2f web demo: upload an English talk, get it back in Hindi.

    python app.py                      # http://127.0.0.1:7860, loopback only
    python app.py --port 8000 --concurrency 2 --max-upload-mb 100 --max-duration-s 300

The page is thin: it builds the config the CLI would build and calls `f2f.pipeline.translate_video`
(through `f2f.app_support`). Models load once per process; each request works in its own run
folder; requests queue with a configurable concurrency. Nothing is fetched from outside
127.0.0.1: no analytics, no web fonts, no server-side rendering, no share link.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from f2f.app_support import (
    OFF,
    AppOptions,
    RunOutcome,
    RunRequest,
    SharedPool,
    backend_choices,
    overall_progress,
    playable_examples,
    rerun_with_translation,
    run_request,
    target_languages,
)
from f2f.config import DEFAULT_BACKENDS
from f2f.errors import ConfigError, F2FError, run_command
from f2f.progress import ProgressEvent
from f2f.stage import KINDS

log = logging.getLogger("f2f.app")

REPO = Path(__file__).resolve().parent
DEFAULT_EXAMPLES = REPO.parent / "shared" / "data" / "grid"
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial",
                "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
STAGE_LABELS = {"asr": "Speech recognition (ASR)", "mt": "Translation (MT)",
                "tts": "Speech synthesis (TTS)", "vc": "Voice conversion (VC)",
                "lipsync": "Lip sync"}


def offline_environment() -> None:
    """Set before Gradio is imported: no telemetry, no hub calls."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _page_error(exc: BaseException) -> Exception:
    """A one-line message for the page: F2F errors as they are, bugs without a traceback."""
    import gradio as gr

    if isinstance(exc, F2FError):
        log.info("request refused: %s", exc)
        return gr.Error(str(exc), duration=None, title=type(exc).__name__,
                        print_exception=False)
    log.exception("internal error while translating")
    return gr.Error(f"internal error ({type(exc).__name__}: {exc}); this is a bug, the server "
                    f"log has the traceback", duration=None, title="Internal error",
                    print_exception=False)


def _progress_sink(progress: Any) -> Any:
    def report(event: ProgressEvent) -> None:
        fraction, label = overall_progress(event)
        progress(fraction, desc=label)

    return report


def _page_values(outcome: RunOutcome) -> tuple[Any, ...]:
    import gradio as gr

    return (outcome.summary, str(outcome.video), outcome.transcript_text,
            outcome.translation_text,
            str(outcome.tts_audio) if outcome.tts_audio else None,
            str(outcome.vc_audio) if outcome.vc_audio else None,
            [str(p) for p in outcome.downloads], outcome.report, outcome,
            gr.update(interactive=bool(outcome.translation_text)))


def build_app(options: AppOptions | None = None) -> Any:
    """Builds the page (a `gr.Blocks`) without launching it."""
    offline_environment()
    import gradio as gr

    options = options or AppOptions()
    pool = SharedPool()  # one per process: models load once
    choices = backend_choices()
    defaults = {**DEFAULT_BACKENDS, **options.defaults}

    def translate(video: str | None, language: str, asr: str, mt: str, tts: str, vc: str,
                  lipsync: str, translation_file: str | None, dub_file: str | None,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        if not video:
            raise gr.Error("upload a video first (or pick an example)", title="No video")
        request = RunRequest(
            video=Path(video), target_language=language,
            backends=dict(zip(KINDS, (asr, mt, tts, vc, lipsync), strict=True)),
            manual_translation=Path(translation_file) if translation_file else None,
            manual_dub_audio=Path(dub_file) if dub_file else None)
        try:
            outcome = run_request(request, options, pool, _progress_sink(progress))
        except Exception as exc:
            raise _page_error(exc) from None
        return _page_values(outcome)

    def rerun(edited: str, previous: RunOutcome | None,
              progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        if previous is None:
            raise gr.Error("translate a video first; then edit its translation here",
                           title="Nothing to re-run")
        try:
            outcome = rerun_with_translation(previous, edited or "", options, pool,
                                             _progress_sink(progress))
        except Exception as exc:
            raise _page_error(exc) from None
        return _page_values(outcome)

    with gr.Blocks(analytics_enabled=False, title="f2f: face-to-face translation") as app:
        gr.Markdown("# f2f: face-to-face translation\nUpload a short video of a person speaking "
                    "English; get the same person speaking the target language, lip-synced. "
                    f"Limits here: {options.max_upload_mb:.0f} MB, "
                    f"{options.max_duration_s / 60:.0f} min.")
        with gr.Row():
            with gr.Column(scale=1):
                video_in = gr.Video(label="Video (English speech)", sources=["upload"],
                                    elem_id="video-in")
                examples = playable_examples(options.examples_dir, options.runs_root /
                                             "examples") \
                    if options.examples_dir and options.examples_dir.is_dir() else []
                if examples:
                    gr.Examples([[str(p)] for p in examples], inputs=[video_in],
                                label="Examples (GRID corpus, CC BY 4.0)")
                language = gr.Dropdown(target_languages(), value="hi", label="Target language",
                                       allow_custom_value=True)
                with gr.Accordion("Stages (choose a backend, or off)", open=False):
                    stage_inputs = []
                    for kind in KINDS:
                        names = [value for _, value in choices[kind]]
                        default = defaults.get(kind, OFF)
                        stage_inputs.append(gr.Dropdown(
                            choices[kind], value=default if default in names else OFF,
                            label=STAGE_LABELS[kind], elem_id=f"stage-{kind}"))
                with gr.Accordion("Manual inputs (optional)", open=False):
                    translation_file = gr.File(label="Hindi translation: .txt (one line per "
                                               "segment) or .srt", file_types=[".txt", ".srt"])
                    dub_file = gr.File(label="Hindi audio (replaces TTS and VC)")
                go = gr.Button("Translate", variant="primary", elem_id="translate")
            with gr.Column(scale=1):
                status = gr.Markdown("Upload a video and press Translate.", elem_id="status")
                video_out = gr.Video(label="Translated video", interactive=False,
                                     elem_id="video-out")
                transcript = gr.Textbox(label="Transcript (English)", lines=3, interactive=False)
                translation = gr.Textbox(label="Translation (edit, then re-run from here)",
                                         lines=3, interactive=True, elem_id="translation")
                rerun_button = gr.Button("Re-run from here (reuses the earlier stages)",
                                         interactive=False)
                with gr.Row():
                    tts_audio = gr.Audio(label="Synthesised speech (TTS)", type="filepath",
                                         interactive=False)
                    vc_audio = gr.Audio(label="In the speaker's voice (VC)", type="filepath",
                                        interactive=False)
                downloads = gr.File(label="Subtitles, report and config", file_count="multiple",
                                    interactive=False)
                with gr.Accordion("Run report", open=False):
                    report = gr.JSON(label="report")
        state = gr.State(None)
        outputs = [status, video_out, transcript, translation, tts_audio, vc_audio, downloads,
                   report, state, rerun_button]
        go.click(translate, [video_in, language, *stage_inputs, translation_file, dub_file],
                 outputs, api_name="translate")
        rerun_button.click(rerun, [translation, state], outputs, api_name="rerun")
    app.queue(default_concurrency_limit=options.concurrency, max_size=options.queue_size)
    return app


def launch_kwargs(options: AppOptions) -> dict[str, Any]:
    """What `launch` needs for an offline-safe, loopback-by-default server."""
    import gradio as gr

    allowed = [str(options.runs_root)]  # run folders and the playable example copies
    return {"server_name": options.host, "server_port": options.port, "share": False,
            "ssr_mode": False, "max_file_size": f"{int(options.max_upload_mb)}mb",
            "allowed_paths": allowed, "footer_links": ["api"],
            "theme": gr.themes.Base(font=SYSTEM_FONTS, font_mono=MONO_FONTS)}


def serve(options: AppOptions) -> tuple[Any, str]:
    """Builds and starts the app in background threads (tests, notebooks); returns (app, url)."""
    app = build_app(options)
    app.launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(options))
    return app, f"http://{options.host}:{app.server_port}/"


def parse_args(argv: Sequence[str] | None = None) -> AppOptions:
    defaults = AppOptions()
    p = argparse.ArgumentParser(description="f2f web demo (Gradio)")
    p.add_argument("--host", default=defaults.host,
                   help="address to bind (default: 127.0.0.1; 0.0.0.0 exposes it to the network)")
    p.add_argument("--port", type=int, default=defaults.port)
    p.add_argument("--concurrency", type=int, default=defaults.concurrency,
                   help="requests processed at once; others wait in the queue")
    p.add_argument("--queue-size", type=int, default=defaults.queue_size)
    p.add_argument("--max-upload-mb", type=float, default=defaults.max_upload_mb)
    p.add_argument("--max-duration-s", type=float, default=defaults.max_duration_s)
    p.add_argument("--runs-dir", type=Path, default=defaults.runs_root,
                   help="where each request's folder (inputs, cache, outputs) is made")
    p.add_argument("--keep-runs-hours", type=float, default=defaults.keep_runs_hours)
    p.add_argument("--examples", type=Path, default=DEFAULT_EXAMPLES,
                   help="folder of example clips (*.mpg) shown under the upload")
    for kind in KINDS:
        p.add_argument(f"--{kind}", metavar="BACKEND",
                       help=f"preselected {kind} backend (default: {DEFAULT_BACKENDS[kind]})")
    args = p.parse_args(argv)
    if args.concurrency < 1:
        p.error("--concurrency must be at least 1")
    return AppOptions(host=args.host, port=args.port, concurrency=args.concurrency,
                      queue_size=args.queue_size, max_upload_mb=args.max_upload_mb,
                      max_duration_s=args.max_duration_s, runs_root=args.runs_dir,
                      keep_runs_hours=args.keep_runs_hours,
                      examples_dir=args.examples if args.examples.is_dir() else None,
                      defaults={k: getattr(args, k) for k in KINDS if getattr(args, k)})


def port_is_free(host: str, port: int) -> bool:
    """Whether `host:port` can be bound now (so a busy port is one clear line, not Gradio's
    traceback)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, 0,
                                                             socket.SOCK_STREAM)[0]
    except socket.gaierror:
        return True  # let the server report a bad host
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def _serve_forever(options: AppOptions) -> int:
    if not port_is_free(options.host, options.port):
        raise ConfigError(f"port {options.port} on {options.host} is already in use (another "
                          f"server?); choose a free one with --port N")
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s: anyone who can reach this address can use the app",
                    options.host)
    app = build_app(options)
    # quiet: Gradio's own banner suggests share=True, which this app never uses
    app.launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(options))
    print(f"f2f demo on http://{options.host}:{app.server_port}/ (Ctrl+C stops it)",
          flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        app.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname).1s %(name)s: %(message)s")
    options = parse_args(argv)
    return run_command(lambda: _serve_forever(options))


if __name__ == "__main__":
    sys.exit(main())
