"""The bounded pipe that carries a stream's SSE bytes from its reader thread to the loop."""

from __future__ import annotations

import asyncio
import threading

from adapters.http.threads import succeeded


class Pipe:
    """SSE bytes from the reading thread to the loop, at most about ``limit`` held at once.

    The reader wakes the loop only when the loop waits for it (``waiter``): bytes written
    while the loop is busy sending join the next chunk without another wake-up.

    Both sides hold the lock only for a few C-level steps, with no Python call in between:
    CPython hands the GIL over only at such calls, so the loop never waits for a reader
    that lost the GIL while holding the pipe. A full pipe parks the reader on ``_room``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self._loop = loop
        self._limit = limit
        self._lock = threading.Lock()
        self._room = threading.Event()  # set by the loop when it takes from a full pipe
        self._full = False  # a reader found the pipe full and waits for room
        self._data = bytearray()
        self._ended = self._closed = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put(self, data: bytes) -> bool:
        """Add bytes, waiting while the pipe is full (reader thread); False once closed."""
        while True:
            with self._lock:
                if self._closed:
                    return False
                if len(self._data) < self._limit:
                    self._data += data
                    waiter, self._waiter = self._waiter, None
                    break
                self._full = True
                self._room.clear()
            self._room.wait()
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
            self._data += data
            waiter, self._waiter = self._waiter, None
        self._wake(waiter)
        return True

    def _wake(self, waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None:
            self._loop.call_soon_threadsafe(succeeded, waiter, None)

    def end(self, error: BaseException | None) -> None:
        """No more bytes will come: the stream ended, or failed with ``error`` (reader thread)."""
        with self._lock:
            self._ended, self._error = True, error
            waiter, self._waiter = self._waiter, None
        self._wake(waiter)

    def waiter(self) -> asyncio.Future[None] | None:
        """A future the reader completes when it has something; None if it already has (loop)."""
        future = self._loop.create_future()
        with self._lock:
            if self._data or self._ended:
                return None
            self._waiter = future
        return future

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
            full, self._full = self._full, False
            ended, error = self._ended, self._error
        if full:
            self._room.set()
        return data, ended, error

    def close(self) -> None:
        """The loop side is gone: a reader waiting for room stops (loop)."""
        with self._lock:
            self._closed = True
        self._room.set()
