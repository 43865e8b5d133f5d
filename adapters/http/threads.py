"""Running blocking work (requests, JSON of large bodies) off the event loop.

Two pools, so that short work never queues behind long: one for streams and other long
Nexus calls, exactly as wide as the stream limit (``StreamSlots`` admits no more, so that
pool never queues), and one for short work (parsing, translation, counting).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TypeVar, TypeVarTuple

from domain.errors import ProxyBusyError

T = TypeVar("T")
Args = TypeVarTuple("Args")


class _Seat:
    """Where one pool thread waits until it is woken for the jobs waiting (``wake`` released)."""

    __slots__ = ("wake",)

    def __init__(self) -> None:
        self.wake = threading.Lock()
        self.wake.acquire()


class Seats:
    """Threads that each wait in a seat of their own; work goes to the one that sat down last.

    A shared queue (``ThreadPoolExecutor``'s) hands each job to the thread that has waited
    longest, so every thread of a pool takes its turn and keeps the stack pages and malloc
    caches it touched: with 80 threads, RSS grew ~2 MB until each had run (figure 6). Last
    in, first out, a few callers keep a few threads busy, with warm caches, and the rest
    stay as they started.

    One thread is on its way at a time: the woken thread takes a job and wakes the next for
    the rest. Woken all at once by a burst of 64 streams, 64 threads queued for the GIL with
    the loop (``/health`` p99 at 64 streams 20-23 ms, against 10-13 ms). A job that raises
    is reported by ``threading.excepthook``, its thread kept. Threads are daemons: at exit
    none is waited for, and the jobs not started are dropped.
    """

    def __init__(self, size: int, name: str) -> None:
        self._size, self._name = size, name
        self._lock = threading.Lock()
        self._idle: list[_Seat] = []  # the most recently idle last
        self._jobs: collections.deque[Callable[[], object]] = collections.deque()
        self._threads = 0
        self._waking = False  # a thread was woken (or started) for the jobs and has not taken one yet
        self._closed = False

    def start_all(self) -> None:
        """Start every thread now, idle; a thread started in ``submit`` (on the loop) waits for the GIL."""
        while True:
            with self._lock:
                if self._threads >= self._size:
                    return
                self._threads += 1
                number = self._threads
            try:
                self._thread(number, waking=False)
            except BaseException:
                with self._lock:
                    self._threads -= 1
                raise

    def submit(self, job: Callable[[], object]) -> None:
        """Run ``job`` in the thread that went idle last, or a new one, or after those running.

        Raises:
            RuntimeError: The pool is closed, or no thread could start and none is running.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is closed")
            self._jobs.append(job)
            wake = self._next()
        if wake() is False:
            with self._lock, contextlib.suppress(ValueError):
                self._jobs.remove(job)
            raise RuntimeError("no thread could start for the job")

    def _next(self) -> Callable[[], bool | None]:
        # Under the lock: wake one more thread for the jobs waiting, unless one is on its way.
        if self._waking or not self._jobs or self._closed:
            return _nothing
        if self._idle:
            self._waking = True
            return self._idle.pop().wake.release
        if self._threads < self._size:
            self._waking = True
            self._threads += 1
            return functools.partial(self._start, self._threads)
        return _nothing  # every thread busy: the first to finish takes the next job

    def _start(self, number: int) -> bool:
        """A thread for the jobs waiting; if none can start, another one takes them.

        False when no thread is left at all, so the jobs would never run.
        """
        try:
            self._thread(number, waking=True)
        except RuntimeError:  # can't start new thread
            with self._lock:
                self._threads -= 1
                self._waking = False
                wake = self._idle.pop().wake.release if self._idle and self._jobs else _nothing
                self._waking = wake is not _nothing
                alone = self._threads == 0
            wake()
            return not alone
        return True

    def _thread(self, number: int, *, waking: bool) -> None:
        thread = threading.Thread(
            target=self._serve, args=(_Seat(), waking), name=f"{self._name}_{number}", daemon=True
        )
        thread.start()

    def _serve(self, seat: _Seat, woken: bool) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                if woken:  # this thread was the one on its way: the next may be woken now
                    self._waking = woken = False
                job = self._jobs.popleft() if self._jobs else None
                if job is None:
                    self._idle.append(seat)
                else:
                    wake = self._next()
            if job is None:
                seat.wake.acquire()
                woken = True
                continue
            wake()
            try:
                job()
            except BaseException:  # not expected of a job; the thread is not lost for it
                threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), threading.current_thread())))
            del job  # not held while idle: its runner may be collected

    def close(self) -> None:
        """Idle threads end now, busy ones after their job; jobs not started are dropped."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for seat in idle:
            seat.wake.release()


def _nothing() -> None:
    pass


class BlockingRunner:
    """A thread pool sized for many parallel streams; counts the calls in flight.

    Like ``asyncio.to_thread`` it carries context variables into the thread, but on a
    pool of our own size rather than the loop's small default one. Its threads end when
    the runner is collected.
    """

    def __init__(self, max_workers: int, name: str = "nexus-io", *, prestart: bool = False) -> None:
        self._pool = Seats(max_workers, name)
        weakref.finalize(self, self._pool.close)
        self._idle = threading.Condition()
        self._busy = 0
        if prestart:
            # Started inside submit(), on the event loop, a thread makes the loop wait for it
            # to get the GIL: under a burst of streams that was a fifth of the loop's time.
            self._pool.start_all()

    @property
    def busy(self) -> int:
        """Calls currently running or queued in the pool."""
        with self._idle:
            return self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Block until no call is in flight; False if that took longer than ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            if not self._busy:
                self._idle.notify_all()

    def submit(self, fn: Callable[[*Args], T], *args: *Args) -> asyncio.Future[T]:
        """Start ``fn(*args)`` in the pool; the future completes on the running loop.

        The worker settles the loop's future itself, in one thread-safe call: no pool
        future chained to it (``run_in_executor``'s copy of state between the two).
        """
        with self._idle:
            self._busy += 1
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        try:
            self._pool.submit(functools.partial(self._settling, loop, future, call))
        except BaseException:
            self._done()
            raise
        return future

    def _settling(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[T], call: Callable[[], T]) -> None:
        try:
            result = call()
        except BaseException as error:  # the awaiting side decides what it means
            self._settle(loop, future, _failed, error)
        else:
            self._settle(loop, future, succeeded, result)
        finally:
            self._done()

    @staticmethod
    def _settle(
        loop: asyncio.AbstractEventLoop, future: asyncio.Future[T], how: Callable[..., None], value: object
    ) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits any more
            loop.call_soon_threadsafe(how, future, value)

    async def run(self, fn: Callable[[*Args], T], *args: *Args) -> T:
        """Await ``fn(*args)`` run in the pool and return its result."""
        return await self.submit(fn, *args)


def succeeded(future: asyncio.Future[T], result: T) -> None:
    """Complete ``future`` with ``result`` unless it is done (cancelled: nobody takes it)."""
    if not future.done():
        future.set_result(result)


def _failed(future: asyncio.Future[object], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class Lane:
    """Stream readers take turns running Python, so that the event loop is not starved.

    CPython hands the GIL to any runnable thread every switch interval, with no priority:
    with 64 readers runnable, the loop thread waits behind them after each of its system
    calls (every send, every poll), many intervals each time, and a ``/health`` answer
    with it. A reader holds the lane while it works and leaves it whenever it waits (on
    Nexus, on its client), so the loop competes with one reader, not all of them. A
    reader that does not get the lane within ``patience`` seconds works anyway: the lane
    orders the work, it never stops it.
    """

    def __init__(self, patience: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._patience = patience
        self._count = threading.Lock()
        self._readers = 0
        self._busy_interval: float | None = None
        self._idle_interval = sys.getswitchinterval()

    def hand_over_faster_while_streaming(self, interval: float) -> None:
        """While any reader runs, the GIL changes hands every ``interval`` seconds.

        A busy reader and the loop thread both want the GIL: at the default 5 ms the loop
        waits that long after each of its system calls, and a ``/health`` answer with it.
        Without streams the default is kept, as shorter turns cost a non-streamed request
        about 0.5 ms more. A served process sets this; tests do not.
        """
        self._busy_interval = interval
        self._idle_interval = sys.getswitchinterval()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """One reader's whole stream: the first in shortens the hand-over, the last out restores it."""
        self._joined(+1)
        try:
            yield
        finally:
            self._joined(-1)

    def _joined(self, step: int) -> None:
        if self._busy_interval is None:
            return
        with self._count:
            self._readers += step
            if self._readers == (1 if step > 0 else 0):
                sys.setswitchinterval(self._busy_interval if step > 0 else self._idle_interval)

    def enter(self) -> bool:
        """Wait for the lane (at most ``patience``); True if it was taken and must be left."""
        return self._lock.acquire(timeout=self._patience)

    def leave(self) -> None:
        """Give the lane to the next reader; only after an ``enter()`` that returned True."""
        self._lock.release()


class Slot:
    """One taken place among ``StreamSlots``; ``release()`` gives it back, once."""

    def __init__(self, owner: StreamSlots) -> None:
        self._owner: StreamSlots | None = owner
        self._lock = threading.Lock()

    def release(self) -> None:
        """Give the place back (idempotent, from any thread)."""
        with self._lock:
            owner, self._owner = self._owner, None
        if owner is not None:
            owner._give_back()


class StreamSlots:
    """At most ``limit`` streams and long Nexus calls at once; the next is refused, not queued.

    A refused request is told to come back (429 with ``retry-after``): a queue would hold
    its client for an unknown time while Claude Code's own timeouts run. The pool for long
    calls is as wide as ``limit``, so a slot always finds a thread.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._taken = 0

    def try_take(self) -> Slot | None:
        """A slot if one is free; None at the limit."""
        with self._lock:
            if self._taken >= self.limit:
                return None
            self._taken += 1
        return Slot(self)

    def _give_back(self) -> None:
        with self._lock:
            self._taken -= 1


class ByteBudget:
    """Request bodies held at once (read, parsed, translated, sent), at most ``limit`` bytes.

    Past it a request is refused before its body is read (429 with ``retry-after``),
    rather than waiting: a wait would hold the client with no bound, and the memory a
    large body costs is a few times its size. One request alone always fits.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._held = 0

    @contextlib.contextmanager
    def hold(self, size: int) -> Iterator[None]:
        """Hold ``size`` bytes for the block, or raise ``ProxyBusyError`` if they do not fit."""
        with self._lock:
            if self._held and self._held + size > self.limit:
                raise ProxyBusyError(
                    f"nexus-claude-api is already handling {self._held / 2**20:.0f} MB of request bodies "
                    f"(its budget is {self.limit / 2**20:.0f} MB); retry shortly"
                )
            self._held += size
        try:
            yield
        finally:
            with self._lock:
                self._held -= size
