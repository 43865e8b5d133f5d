"""Running blocking work (requests, JSON of large bodies) off the event loop.

Two pools, so that short work never queues behind long: one for streams and other long
Nexus calls, exactly as wide as the stream limit (``StreamSlots`` admits no more, so that
pool never queues), and one for short work (parsing, translation, counting).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, TypeVarTuple

from domain.errors import ProxyBusyError

T = TypeVar("T")
Args = TypeVarTuple("Args")


class BlockingRunner:
    """A thread pool sized for many parallel streams; counts the calls in flight.

    Like ``asyncio.to_thread`` it carries context variables into the thread, but on a
    pool of our own size rather than the loop's small default one.
    """

    def __init__(self, max_workers: int, name: str = "nexus-io", *, prestart: bool = False) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._idle = threading.Condition()
        self._busy = 0
        if prestart:
            self._start_all(max_workers)

    def _start_all(self, count: int) -> None:
        # The pool starts a thread inside submit(), on the event loop, which then waits for
        # the new thread to get the GIL: under a burst of streams that was a fifth of the
        # loop's time. Started here, before serving, every thread exists from the start.
        everyone = threading.Barrier(count)
        for _ in range(count):
            self._pool.submit(everyone.wait)

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
        self._pool.submit(self._settling, loop, future, call)
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
