"""Speed and memory figures for nexus-claude-api, printed beside their targets.

Tests check behaviour and never time anything; the targets live here instead. Everything
runs on loopback: the fake AI Nexus from ``tests/support`` in this process, the real proxy
(``entrypoints.app.build_app``) in a child process so that its memory is measured alone.

    uv run python bench/run.py            # the table; exit status 1 if a figure misses
    uv run python bench/run.py --profile  # also cProfile's view of request translation
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find bench/ and tests/

from bench.cache_prefix import cache_prefix_rows
from bench.forwarding import forwarding_rows
from bench.large_image import image_rows
from bench.parallel import parallel_rows
from bench.proxy_process import ProxyProcess
from bench.table import Row, render
from bench.translation import print_profile, translation_rows
from tests.support.fake_nexus import FakeNexus


def _fake_problems(fake: FakeNexus) -> list[Row]:
    """A figure is only worth something if Nexus would have taken every request."""
    invalid = [error for request in fake.invalid_requests() for error in request.errors]
    problems = [*map(repr, fake.handler_errors), *invalid]
    for problem in problems:
        print(f"fake Nexus: {problem}", file=sys.stderr)
    return [Row("fake Nexus: handler errors + invalid requests", str(len(problems)), "0", not problems)]


def run_all() -> list[Row]:
    rows = translation_rows() + cache_prefix_rows()
    with FakeNexus() as fake, ProxyProcess(fake.url) as proxy:
        rows += parallel_rows(fake, proxy)
        rows += forwarding_rows(fake, proxy.url)
        rows += image_rows(fake, proxy)
        rows += _fake_problems(fake)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="profile request translation with cProfile")
    args = parser.parse_args()
    print(f"nexus-claude-api bench: Python {platform.python_version()}, {os.cpu_count()} CPUs")
    start = time.perf_counter()
    rows = run_all()
    print(render(rows))
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.profile:
        print_profile()
    return 0 if all(row.passed is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
