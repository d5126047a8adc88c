"""Helpers every MT backend shares: the language check and building the aligned Translation."""

from __future__ import annotations

from collections.abc import Sequence

from f2f.artifacts import Transcript, TranslatedSegment, Translation
from f2f.errors import StageError, UnsupportedLanguageError
from f2f.stage import MTBackend


def require_language(backend: MTBackend, target_language: str) -> None:
    if backend.languages is not None and target_language not in backend.languages:
        raise UnsupportedLanguageError(
            f"mt backend '{backend.name}' cannot translate into {target_language!r}; it supports "
            f"{', '.join(sorted(backend.languages))}. Choose another --to or another --mt backend")


def aligned_translation(transcript: Transcript, texts: Sequence[str], target_language: str,
                        backend: str) -> Translation:
    """One translated segment per source segment: same ids, same time slots."""
    if len(texts) != len(transcript.segments):
        raise StageError(f"mt backend '{backend}' returned {len(texts)} lines for "
                         f"{len(transcript.segments)} segments")
    segments = tuple(
        TranslatedSegment(id=s.id, source_text=s.text, text=" ".join(t.split()),
                          start_s=s.start_s, end_s=s.end_s)
        for s, t in zip(transcript.segments, texts, strict=True))
    return Translation(transcript.language, target_language, segments, backend)
