"""One line of the benchmark table, and the table itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """A figure of ours next to its baseline from the same run.

    Attributes:
        section: the issue's item number (1 throughput … 6 concurrency).
        figure: what is measured, with its unit.
        ours: lambdagraph's value, formatted.
        baseline: the baseline's name and value, formatted.
        ratio: ours / baseline (None when there is no meaningful ratio).
        goal: the goal, in words (empty: for information).
        met: whether the goal is met (None: no goal, or not measured).
    """

    section: int
    figure: str
    ours: str
    baseline: str = "–"
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None


def ratio_text(ratio: float | None) -> str:
    """``0.42`` or ``7.9x`` (above 1, as a multiple), ``–`` without a ratio."""
    if ratio is None:
        return "–"
    return f"{ratio:.1f}x" if ratio >= 1.5 else f"{ratio:.3g}"


def render(rows: list[Row]) -> str:
    """The rows as one Markdown table (the README carries the same)."""
    head = "| # | figure | lambdagraph | baseline (same run) | ratio | goal | met |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: "–"}[row.met]
        cells = [
            str(row.section), row.figure, row.ours, row.baseline, ratio_text(row.ratio),
            row.goal or "–", met,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ms(seconds: float) -> str:
    """Seconds as milliseconds, 3 significant digits."""
    value = seconds * 1000
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
