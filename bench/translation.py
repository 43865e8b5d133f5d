"""What translating one Claude Code request costs, stage by stage, with no I/O at all.

Every request pays this in the thread pool before Nexus sees it: structuring the parsed
JSON (cattrs), translating to Converse, and unstructuring to Converse JSON. Claude Code's
requests are large, so the figure is taken on a realistic one (``claude_code_request``).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import time
from typing import Any

from adapters.http.anthropic_wire import structure_request
from adapters.nexus.converse_wire import request_json
from bench.claude_code_request import claude_code_request
from bench.table import Row, ms
from domain.rules.betas import DEFAULT_BETA_ALLOWLIST
from domain.to_converse.request import translate_request

RUNS = 200
TARGET_SECONDS = 0.020


def _translate_once(body: dict[str, Any]) -> tuple[float, float, float]:
    """Seconds spent structuring, translating and unstructuring ``body``."""
    start = time.perf_counter()
    request = structure_request(body)
    structured = time.perf_counter()
    translation = translate_request(request, beta_allowlist=DEFAULT_BETA_ALLOWLIST)
    translated = time.perf_counter()
    request_json(translation.request)
    return structured - start, translated - structured, time.perf_counter() - translated


def translation_rows(runs: int = RUNS) -> list[Row]:
    body = claude_code_request()
    size_kb = len(json.dumps(body)) / 1024
    _translate_once(body)  # cattrs builds its hooks on first use
    stages = [_translate_once(body) for _ in range(runs)]
    structure, translate, unstructure = (sum(column) / runs for column in zip(*stages, strict=True))
    total = structure + translate + unstructure
    return [
        Row(
            f"translate {size_kb:.0f} KB Claude Code request (mean of {runs})",
            ms(total),
            f"< {ms(TARGET_SECONDS)}",
            total < TARGET_SECONDS,
        ),
        Row("  of which structure / translate / to JSON", f"{ms(structure)} / {ms(translate)} / {ms(unstructure)}"),
    ]


def print_profile(runs: int = 50, top: int = 15) -> None:
    """Where translation spends its time: cProfile's top functions by own time."""
    body = claude_code_request()
    _translate_once(body)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        _translate_once(body)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
