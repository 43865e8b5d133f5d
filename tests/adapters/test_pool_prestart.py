"""A served proxy starts its pool threads up front, and hands the GIL over faster while streaming."""

from __future__ import annotations

import sys
import threading

import pytest

from adapters.http.threads import BlockingRunner, Lane


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


def test_the_gil_changes_hands_faster_only_while_some_stream_is_read() -> None:
    before = sys.getswitchinterval()
    lane = Lane()
    try:
        with lane.reading():
            assert sys.getswitchinterval() == pytest.approx(before)  # not asked for: unchanged
        lane.hand_over_faster_while_streaming(0.0002)
        with lane.reading():
            assert sys.getswitchinterval() == pytest.approx(0.0002)
            with lane.reading():
                pass
            assert sys.getswitchinterval() == pytest.approx(0.0002)  # one reader is still on
        assert sys.getswitchinterval() == pytest.approx(before)
    finally:
        sys.setswitchinterval(before)
