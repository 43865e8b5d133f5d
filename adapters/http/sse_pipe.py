"""The bounded pipe that carries a stream's SSE bytes from its reader thread to the loop."""

from __future__ import annotations

import asyncio
import threading

from adapters.http.threads import succeeded


class Pipe:
    """SSE bytes from the reading thread to the loop, at most about ``limit`` held at once.

    The reader wakes the loop only when the loop waits for it (``waiter``): bytes written
    while the loop is busy sending join the next chunk without another wake-up.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self._loop = loop
        self._limit = limit
        self._lock = threading.Condition()
        self._data = bytearray()
        self._ended = self._closed = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put(self, data: bytes) -> bool:
        """Add bytes, waiting while the pipe is full (reader thread); False once closed."""
        with self._lock:
            while len(self._data) >= self._limit and not self._closed:
                self._lock.wait()
            if self._closed:
                return False
            waiter = self._add(data)
        self._wake(waiter)
        return True

    def offer(self, data: bytes) -> bool:
        """Add bytes only if there is room now (reader thread); False, adding none, if not.

        A closed pipe takes them, to drop them: the reader learns it at its next ``put``.
        """
        with self._lock:
            if self._closed:
                return True
            if len(self._data) >= self._limit:
                return False
            waiter = self._add(data)
        self._wake(waiter)
        return True

    def _add(self, data: bytes) -> asyncio.Future[None] | None:
        # Under the lock: the bytes in, and the loop's waiter (if it waits) to complete.
        self._data += data
        waiter, self._waiter = self._waiter, None
        return waiter

    def _wake(self, waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None:
            self._loop.call_soon_threadsafe(succeeded, waiter, None)

    def end(self, error: BaseException | None) -> None:
        """No more bytes will come: the stream ended, or failed with ``error`` (reader thread)."""
        with self._lock:
            self._ended, self._error = True, error
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._loop.call_soon_threadsafe(succeeded, waiter, None)

    def waiter(self) -> asyncio.Future[None] | None:
        """A future the reader completes when it has something; None if it already has (loop)."""
        with self._lock:
            if self._data or self._ended:
                return None
            self._waiter = self._loop.create_future()
            return self._waiter

    def wake(self, _: object = None) -> None:
        """Complete the loop's waiter now, with or without bytes: something else ended the wait (loop)."""
        with self._lock:
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            succeeded(waiter, None)

    def take(self) -> tuple[bytes, bool, BaseException | None]:
        """Everything pending, whether the stream has ended, and how it failed if it did (loop)."""
        with self._lock:
            data = bytes(self._data)
            self._data.clear()
            self._lock.notify_all()
            return data, self._ended, self._error

    def close(self) -> None:
        """The loop side is gone: a reader waiting for room stops (loop)."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
