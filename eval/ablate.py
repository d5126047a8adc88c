"""Ablation grids: every combination of stage choices, each cell measured like a condition.

    python -m f2f eval ablate INPUT --vary lipsync=none,viseme,wav2lip --vary vc=none,world

runs 3 x 2 = 6 cells through the same cache (ASR and MT run once; TTS once per TTS choice) and
tabulates every metric per cell in ablation.md / ablation.json.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.conditions import (
    Condition,
    ConditionsRun,
    MetricOptions,
    References,
    run_conditions,
)
from eval.report import report_markdown
from f2f.errors import ConfigError


def parse_vary(specs: Sequence[str]) -> list[tuple[str, list[str]]]:
    """['lipsync=none,viseme', 'vc=none,world'] -> [('lipsync', [...]), ('vc', [...])]."""
    axes: list[tuple[str, list[str]]] = []
    for spec in specs:
        key, sep, values = spec.partition("=")
        choices = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not choices:
            raise ConfigError(f"--vary expects KEY=A,B,..., got {spec!r}")
        if any(k == key.strip() for k, _ in axes):
            raise ConfigError(f"--vary {key.strip()} given twice")
        axes.append((key.strip(), choices))
    if not axes:
        raise ConfigError("give at least one --vary KEY=A,B")
    return axes


def grid_conditions(axes: Sequence[tuple[str, list[str]]]) -> list[Condition]:
    """One condition per cell of the grid, named like `lipsync-viseme_vc-world`."""
    cells = []
    for combo in itertools.product(*(values for _, values in axes)):
        pairs = [(key, value) for (key, _), value in zip(axes, combo, strict=True)]
        name = "_".join(f"{key.replace('.', '-')}-{value}".replace(".", "-")
                        for key, value in pairs)
        name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)
        cells.append(Condition(name, ", ".join(f"{k}={v}" for k, v in pairs),
                               tuple(f"{k}={v}" for k, v in pairs)))
    return cells


def run_ablation(input_path: str | Path, out_dir: str | Path, vary: Sequence[str], *,
                 sets: Sequence[str] = (), config_path: str | Path | None = None,
                 target_language: str = "hi", references: References = References(),
                 options: MetricOptions = MetricOptions(),
                 workdir: str | Path | None = None, pool: Any = None) -> ConditionsRun:
    axes = parse_vary(vary)
    out = Path(out_dir)
    run = run_conditions(input_path, out, grid_conditions(axes), config_path=config_path,
                         sets=sets, target_language=target_language, references=references,
                         options=options, workdir=workdir, pool=pool)
    payload = {"axes": {k: v for k, v in axes}, **run.to_dict()}
    (out / "ablation.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2),
                                       encoding="utf-8")
    text = report_markdown(run).replace("# Six-condition comparison", "# Ablation grid", 1)
    (out / "ablation.md").write_text(text, encoding="utf-8")
    return run
