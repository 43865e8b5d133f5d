"""Anthropic events as Server-Sent Events, straight from the upstream, never buffered.

The blocking upstream is stepped in the thread pool one batch at a time. While waiting
we also watch the client: if it goes away the upstream is closed at once (its thread
returns to the pool), and if Nexus is silent a ``ping`` keeps Claude Code's stall
watchdog quiet. Pings alone would keep a dead upstream alive forever, so Nexus's silence
is bounded too (``idle_limit``, below Claude Code's 300 s watchdog): past it the stream
ends with a ``timeout_error``. After the first byte a failure can only be told as an
``error`` event.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from falcon.asgi import SSEvent

from adapters.http.anthropic_wire import unstructure
from adapters.http.disconnect import ShutdownSignal, shutting_down_error
from adapters.http.errors import classify
from adapters.http.json_limits import to_json_bytes
from adapters.http.threads import BlockingRunner, Slot
from domain.errors import UpstreamTimeoutError
from domain.services.relay import MessageStream
from domain.vocab import anthropic as a

log = logging.getLogger("nexus_claude_api.http")
_PING = a.PingEvent(type="ping")


def sse(event: a.StreamEvent) -> SSEvent:
    """Named SSE event: Claude Code ignores data-only events and stops streaming."""
    return SSEvent(event=event.type, data=to_json_bytes(unstructure(event), compact=True))


def error_event(error: BaseException) -> a.ErrorEvent:
    """An exception as the SSE ``error`` event that ends a stream already under way."""
    _, kind, message = classify(error)
    return a.ErrorEvent(type="error", error=a.ErrorDetail(type=kind, message=message))


class _Reader:
    """Steps the stream in the pool; hands the slot back once no read is left running.

    The slot goes back in the worker thread itself when a read outlives the stream (the
    client left mid-read), so it is free before that thread counts as idle.
    """

    def __init__(self, stream: MessageStream, slot: Slot | None) -> None:
        self._batches = iter(stream)
        self._slot = slot
        self._lock = threading.Lock()
        self._reading = self._ended = False

    def read(self) -> list[a.StreamEvent] | None:
        with self._lock:
            if self._ended:
                return None
            self._reading = True
        try:
            return next(self._batches, None)
        finally:
            with self._lock:
                self._reading, ended = False, self._ended
            if ended:
                self._release()

    def end(self) -> None:
        with self._lock:
            self._ended, reading = True, self._reading
        if not reading:
            self._release()

    def _release(self) -> None:
        if self._slot is not None:
            self._slot.release()


def idle_error(idle_limit: float) -> UpstreamTimeoutError:
    """The error that ends a stream whose upstream stayed silent for ``idle_limit`` seconds."""
    return UpstreamTimeoutError(f"AI Nexus sent nothing for {idle_limit:g} s; the stream was ended")


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # a read failing after close() is expected, not news


def _stopping(shutdown: ShutdownSignal | None) -> bool:
    # The flag, not the waiter: the waiter is woken a loop turn after the flag is set.
    return shutdown is not None and shutdown.begun


async def _wait(step: asyncio.Future[Any], watched: set[asyncio.Future[Any]], timeout: float) -> None:
    await asyncio.wait({step, *watched}, timeout=max(timeout, 0), return_when=asyncio.FIRST_COMPLETED)


async def stream_events(
    stream: MessageStream,
    *,
    runner: BlockingRunner,
    disconnected: asyncio.Event,
    ping_interval: float,
    request_id: str,
    idle_limit: float = 120.0,
    slot: Slot | None = None,
    shutdown: ShutdownSignal | None = None,
) -> AsyncIterator[SSEvent]:
    """The SSE events of a message stream, with pings while Nexus is silent.

    Each batch is read in the thread pool; the client leaving closes the upstream at
    once rather than after Nexus's next event, and ``idle_limit`` seconds without a
    batch from Nexus end the stream with a ``timeout_error`` event, as the server
    stopping (``shutdown``) ends it with an ``api_error``. ``slot`` (the stream's place
    under the stream limit) is released once the last read is over.
    """
    # This generator owns the stream: ``with`` closes the upstream however it ends,
    # client gone or Falcon closing the generator included.
    with stream:
        reader = _Reader(stream, slot)
        gone: asyncio.Future[Any] = asyncio.ensure_future(disconnected.wait())
        stopping = shutdown.waiter() if shutdown is not None else asyncio.get_running_loop().create_future()
        step: asyncio.Future[list[a.StreamEvent] | None] | None = None
        loop = asyncio.get_running_loop()
        started, sent = time.perf_counter(), 0
        try:
            while True:
                step = runner.submit(reader.read)
                deadline = loop.time() + idle_limit
                while not step.done():
                    await _wait(step, {gone, stopping}, min(ping_interval, deadline - loop.time()))
                    if gone.done():
                        log.info("client left stream %s; closing upstream", request_id)
                        return
                    if _stopping(shutdown):
                        log.info("stream %s ended: the server is stopping", request_id)
                        yield sse(error_event(shutting_down_error()))
                        return
                    if step.done():
                        break
                    if loop.time() >= deadline:
                        log.info("stream %s: Nexus silent for %g s; closing upstream", request_id, idle_limit)
                        yield sse(error_event(idle_error(idle_limit)))
                        return
                    yield sse(_PING)
                try:
                    batch = step.result()
                except Exception as error:  # after the first byte, errors travel in-band
                    log.info("stream %s failed: %s", request_id, type(error).__name__)
                    # Stopping closes Nexus's sockets too: say why the read failed.
                    yield sse(error_event(shutting_down_error() if _stopping(shutdown) else error))
                    return
                if batch is None:
                    return
                for event in batch:
                    sent += 1
                    yield sse(event)
        finally:
            log.debug("stream %s ended: %d events in %.0f ms", request_id, sent, (time.perf_counter() - started) * 1000)
            gone.cancel()
            stopping.cancel()
            reader.end()
            if step is not None:  # done or not, its outcome may be unread
                step.add_done_callback(_consume)
