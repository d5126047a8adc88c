"""Paper-style tables: mean, std, 95% confidence interval and n per condition, and bar charts.

Used for the human ratings (`eval summarize DIR`) and for automatic metrics aggregated over many
clips (`eval dataset`). The interval is Student's t over the ratings (a normal approximation
would be too narrow for the handful of raters a study like the paper's has).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from f2f.media import atomic_output


@dataclass(frozen=True)
class Stats:
    mean: float
    std: float  # sample standard deviation (ddof=1); 0 for a single value
    ci95: float  # half-width of the 95% t interval; nan for a single value
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v)
                for k, v in asdict(self).items()}

    def cell(self, digits: int = 2) -> str:
        if self.n == 0:
            return "–"
        ci = f" ± {self.ci95:.{digits}f}" if math.isfinite(self.ci95) else ""
        return f"{self.mean:.{digits}f}{ci} (sd {self.std:.{digits}f}, n={self.n})"


def describe(values: Iterable[float]) -> Stats:
    """Mean, sample std, 95% CI half-width (Student's t) and count of the finite values."""
    from scipy import stats

    data = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(data)
    if n == 0:
        return Stats(float("nan"), float("nan"), float("nan"), 0)
    mean = sum(data) / n
    if n == 1:
        return Stats(mean, 0.0, float("nan"), 1)
    std = math.sqrt(sum((v - mean) ** 2 for v in data) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return Stats(mean, std, half, n)


def table(rows: Mapping[str, Mapping[str, Stats]], columns: Sequence[str],
          directions: Mapping[str, str] | None = None, digits: int = 2) -> str:
    """A Markdown table: one row per condition, one column per measure; best means in bold."""
    directions = directions or {}
    best: dict[str, float] = {}
    for column in columns:
        means = [r[column].mean for r in rows.values() if column in r and r[column].n]
        if means and directions.get(column) in ("higher", "lower"):
            best[column] = max(means) if directions[column] == "higher" else min(means)
    arrows = {"higher": " ↑", "lower": " ↓"}
    header = "| condition | " + " | ".join(f"{c}{arrows.get(directions.get(c, ''), '')}"
                                           for c in columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for name, row in rows.items():
        cells = []
        for column in columns:
            stat = row.get(column)
            if stat is None or stat.n == 0:
                cells.append("–")
                continue
            text = stat.cell(digits)
            cells.append(f"**{text}**" if best.get(column) == stat.mean and len(rows) > 1
                         else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bar_chart(rows: Mapping[str, Mapping[str, Stats]], columns: Sequence[str],
              path: str | Path, title: str = "", ylabel: str = "") -> Path:
    """Grouped bars of the means with 95% CI error bars, one group per column, one PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in tests
    import matplotlib.pyplot as plt

    names = list(rows)
    fig, axes = plt.subplots(1, len(columns), figsize=(max(4.0, 3.2 * len(columns)), 3.6),
                             squeeze=False)
    for axis, column in zip(axes[0], columns, strict=True):
        stats = [rows[n].get(column) for n in names]
        means = [s.mean if s and s.n else 0.0 for s in stats]
        errors = [s.ci95 if s and s.n > 1 and math.isfinite(s.ci95) else 0.0 for s in stats]
        axis.bar(range(len(names)), means, yerr=errors, capsize=3,
                 color=[f"C{i % 10}" for i in range(len(names))])
        axis.set_xticks(range(len(names)))
        axis.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
        axis.set_title(column, fontsize=9)
        if ylabel:
            axis.set_ylabel(ylabel, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_output(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)


def stats_to_dict(rows: Mapping[str, Mapping[str, Stats]]) -> dict[str, dict[str, Any]]:
    return {name: {column: s.to_dict() for column, s in row.items()} for name, row in rows.items()}
