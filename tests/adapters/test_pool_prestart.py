"""A served proxy starts its pool threads up front, reuses the last idle one, and hands the GIL over
faster while streaming."""

from __future__ import annotations

import functools
import gc
import sys
import threading

import pytest

from adapters.http.threads import BlockingRunner, Lane, Seats


def pool_threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_a_prestarted_pool_has_every_thread_before_any_call() -> None:
    runner = BlockingRunner(max_workers=5, name="prestart-probe", prestart=True)
    try:
        assert len(pool_threads("prestart-probe")) == 5
        assert runner.busy == 0
    finally:
        runner._pool.close()


def test_a_pool_starts_no_thread_until_asked_by_default() -> None:
    runner = BlockingRunner(max_workers=5, name="lazy-probe")
    try:
        assert pool_threads("lazy-probe") == []
    finally:
        runner._pool.close()


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


def test_one_caller_after_another_is_served_by_one_thread_of_many() -> None:
    # Each thread that runs keeps the stack and malloc caches it touched: a pool that took
    # turns grew by all of them.
    seats = Seats(8, "lifo-probe")
    seats.start_all()
    ran: list[str] = []
    try:
        for _ in range(20):
            done = threading.Event()

            def note(done: threading.Event = done) -> None:
                ran.append(threading.current_thread().name)
                done.set()

            seats.submit(note)
            assert done.wait(5)
    finally:
        seats.close()
    assert len(pool_threads("lifo-probe")) <= 8
    # One, or two or three when a call came before the last one's thread sat down: not all 8 in turn.
    assert len(set(ran)) <= 3


def test_jobs_beyond_the_threads_wait_for_one_and_all_run() -> None:
    seats = Seats(2, "backlog-probe")
    release, ran = threading.Event(), list[int]()
    started = threading.Barrier(3)
    try:
        for _ in range(2):
            seats.submit(lambda: (started.wait(5), release.wait(5)))
        started.wait(5)  # both threads busy
        finished = threading.Semaphore(0)

        def note(n: int) -> None:
            ran.append(n)
            finished.release()

        for n in range(5):
            seats.submit(functools.partial(note, n))
        assert ran == []
        release.set()
        assert all(finished.acquire(timeout=5) for _ in range(5))
    finally:
        seats.close()
    assert sorted(ran) == [0, 1, 2, 3, 4]
    assert len(pool_threads("backlog-probe")) <= 2


def test_a_runner_collected_ends_its_threads() -> None:
    runner = BlockingRunner(max_workers=3, name="collected-probe", prestart=True)
    threads = pool_threads("collected-probe")
    assert len(threads) == 3
    del runner
    gc.collect()
    for thread in threads:
        thread.join(5)
    assert pool_threads("collected-probe") == []


def test_a_thread_that_cannot_start_leaves_the_pool_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    start = threading.Thread.start

    def start_unless_second(thread: threading.Thread) -> None:
        if thread.name == "nostart-probe_2":
            raise RuntimeError("can't start new thread")
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", start_unless_second)
    seats = Seats(4, "nostart-probe")
    busy, release, ran = threading.Event(), threading.Event(), threading.Semaphore(0)
    try:

        def hold() -> None:
            busy.set()
            release.wait(5)

        seats.submit(hold)
        assert busy.wait(5)
        seats.submit(ran.release)  # its thread fails to start: it waits for the busy one
        release.set()
        assert ran.acquire(timeout=5)
        for _ in range(3):  # and later calls are still served
            seats.submit(ran.release)
            assert ran.acquire(timeout=5)
    finally:
        seats.close()


def test_a_job_that_raises_is_reported_and_its_thread_serves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args.exc_value))
    seats = Seats(1, "raise-probe")
    ran = threading.Event()
    try:
        seats.submit(lambda: 1 / 0)
        seats.submit(ran.set)
        assert ran.wait(5)
    finally:
        seats.close()
    assert [type(error) for error in reported] == [ZeroDivisionError]


def test_a_closed_pool_refuses_work() -> None:
    seats = Seats(2, "closed-probe")
    seats.close()
    with pytest.raises(RuntimeError, match="closed"):
        seats.submit(lambda: None)
