"""The benchmark's output: one row per figure, its target beside it, PASS or MISS.

Figures are printed, not asserted: a timing depends on the machine, so it belongs in a
report a person reads, not in a test that fails on a busy laptop.
"""

from __future__ import annotations

import statistics
from typing import NamedTuple


class Row(NamedTuple):
    """One figure. ``passed`` is None for figures shown for context, without a target.

    ``direct`` is the same traffic sent straight to the fake Nexus, where that makes sense.
    """

    name: str
    value: str
    target: str = ""
    passed: bool | None = None
    direct: str = ""


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5 for the median), interpolated; needs two values or more."""
    if fraction == 0.5:
        return statistics.median(values)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
    return "  ".join([*padded, *cells[len(widths) :]]).rstrip()


def render(rows: list[Row]) -> str:
    """The rows as an aligned plain-text table; the last column is left ragged."""
    verdicts = {None: "", True: "PASS", False: "MISS"}
    table = [("figure", "proxy", "direct", "target", "result")]
    table += [(row.name, row.value, row.direct, row.target, verdicts[row.passed]) for row in rows]
    widths = [max(len(cells[i]) for cells in table) for i in range(4)]
    lines = [_line(cells, widths) for cells in table]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
