"""Stage backends, grouped by kind (asr, mt, tts, vc, lipsync)."""
