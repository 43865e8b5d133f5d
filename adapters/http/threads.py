"""Running blocking work (requests, JSON of large bodies) off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, TypeVarTuple

T = TypeVar("T")
Args = TypeVarTuple("Args")


class BlockingRunner:
    """A thread pool sized for many parallel streams; counts the calls in flight.

    Like ``asyncio.to_thread`` it carries context variables into the thread, but on a
    pool of our own size rather than the loop's small default one.
    """

    def __init__(self, max_workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="nexus-io")
        self._idle = threading.Condition()
        self._busy = 0

    @property
    def busy(self) -> int:
        """Calls currently running or queued in the pool."""
        with self._idle:
            return self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Block until no call is in flight; False if that took longer than ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _tracked(self, call: Callable[[], T]) -> T:
        try:
            return call()
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def submit(self, fn: Callable[[*Args], T], *args: *Args) -> asyncio.Future[T]:
        """Start ``fn(*args)`` in the pool; the future completes on the running loop."""
        with self._idle:
            self._busy += 1
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._pool, self._tracked, call)

    async def run(self, fn: Callable[[*Args], T], *args: *Args) -> T:
        """Await ``fn(*args)`` run in the pool and return its result."""
        return await self.submit(fn, *args)
