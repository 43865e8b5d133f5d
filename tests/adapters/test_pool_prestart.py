"""A served proxy starts its pool threads before the first request, not on the event loop."""

from __future__ import annotations

import threading

from adapters.http.threads import BlockingRunner


def pool_threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_a_prestarted_pool_has_every_thread_before_any_call() -> None:
    runner = BlockingRunner(max_workers=5, name="prestart-probe", prestart=True)
    try:
        assert len(pool_threads("prestart-probe")) == 5
        assert runner.busy == 0
    finally:
        runner._pool.shutdown(wait=True)


def test_a_pool_starts_no_thread_until_asked_by_default() -> None:
    runner = BlockingRunner(max_workers=5, name="lazy-probe")
    try:
        assert pool_threads("lazy-probe") == []
    finally:
        runner._pool.shutdown(wait=True)
