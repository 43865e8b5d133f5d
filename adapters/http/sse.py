"""Anthropic events as Server-Sent Events, straight from the upstream, pipelined.

One reader per stream runs the whole upstream in one pool thread, ahead of the client:
it reads what Nexus sent, translates it and frames it as SSE bytes into a small bounded
pipe (a slow client stops the reader, never makes the proxy hold a whole response). The
loop is woken once per batch, not per event, and writes everything pending as one ASGI
send. While waiting it also watches the client: if it goes away the upstream is closed at
once, and if Nexus is silent a ``ping`` keeps Claude Code's stall watchdog quiet. Pings
alone would keep a dead upstream alive forever, so Nexus's silence is bounded too
(``idle_limit``, below Claude Code's 300 s watchdog): past it the stream ends with a
``timeout_error``. After the first byte a failure can only be told as an ``error`` event.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from falcon.asgi import SSEvent

from adapters.blocking_waits import around_waits
from adapters.http.anthropic_wire import unstructure
from adapters.http.disconnect import Disconnected, ShutdownSignal, shutting_down_error
from adapters.http.errors import classify
from adapters.http.json_limits import to_json_bytes
from adapters.http.sse_pipe import Pipe
from adapters.http.threads import BlockingRunner, Lane, Slot, succeeded
from domain.errors import UpstreamTimeoutError
from domain.services.relay import MessageStream
from domain.vocab import anthropic as a
from domain.vocab import builders

log = logging.getLogger("nexus_claude_api.http")
_PING = a.PingEvent(type="ping")
# SSE bytes a reader may hold ahead of its client: many events per send, never a whole answer.
PIPE_LIMIT = 64 * 1024
# SSE bytes a reader gathers between two socket reads before handing them on anyway.
GATHER_LIMIT = 16 * 1024
# One for all streams: readers take turns, the loop's share of the GIL stays large.
LANE = Lane()


# Each delta that carries a string, by its type: the bytes before its index, the bytes between
# its index and its string, and the field that holds the string. Most events of a stream are
# these, framed without building a dict for each.
_FRAMES = {
    tag: (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":',
        b',"delta":{"type":"%s","%s":' % (tag.encode(), field.encode()),
        field,
    )
    for tag, field in [("text_delta", "text"), ("input_json_delta", "partial_json"), ("thinking_delta", "thinking")]
}
_DELTA_END = b"}}\n\n"


def _plain_delta(event: a.ContentBlockDeltaEvent) -> bytes | None:
    """The bytes ``sse()`` makes of a text, tool-input or thinking delta, without cattrs."""
    delta = event.delta
    frame = _FRAMES.get(delta.type)
    if frame is None:
        return None
    before_index, before_text, field = frame
    try:
        text = orjson.dumps(getattr(delta, field))
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate: the careful path
        return None
    return b"%s%d%s%s%s" % (before_index, event.index, before_text, text, _DELTA_END)


def _run(run: a.DeltaRun) -> bytes:
    """A run's events, one ``content_block_delta`` per piece; its strings encoded in one call each."""
    before_index, before_text, _ = _FRAMES[run.kind]
    head = b"%s%d%s" % (before_index, run.index, before_text)
    try:
        texts = list(map(orjson.dumps, run.pieces))
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate: piece by piece, the careful way
        return b"".join([sse(event) for event in builders.block_deltas(run)])
    return b"".join((head, (_DELTA_END + head).join(texts), _DELTA_END))


def sse(event: a.StreamEvent) -> bytes:
    """One named SSE event: Claude Code ignores data-only events and stops streaming.

    A run is as many events as it has pieces.
    """
    if isinstance(event, a.DeltaRun):
        return _run(event) if event.pieces else b""
    if type(event) is a.ContentBlockDeltaEvent and (framed := _plain_delta(event)) is not None:
        return framed
    data = to_json_bytes(unstructure(event), compact=True)
    return b"".join((b"event: ", event.type.encode(), b"\ndata: ", data, b"\n\n"))


class Chunk(SSEvent):
    """Many SSE events already framed, which Falcon's ``resp.sse`` sends as one body chunk."""

    __slots__ = ("_framed",)

    def __init__(self, framed: bytes) -> None:
        self._framed = framed

    def serialize(self, handler: Any = None) -> bytes:
        """The framed bytes as they are."""
        return self._framed


def error_event(error: BaseException) -> a.ErrorEvent:
    """An exception as the SSE ``error`` event that ends a stream already under way."""
    _, kind, message = classify(error)
    return a.ErrorEvent(type="error", error=a.ErrorDetail(type=kind, message=message))


def idle_error(idle_limit: float) -> UpstreamTimeoutError:
    """The error that ends a stream whose upstream stayed silent for ``idle_limit`` seconds."""
    return UpstreamTimeoutError(f"AI Nexus sent nothing for {idle_limit:g} s; the stream was ended")


class _Reader:
    """Steps the whole stream in one pool thread; hands the slot back once both sides are done.

    Between two socket reads it gathers what it makes and hands it on just before the next
    read or other wait (``adapters/blocking_waits.py``), so the loop is woken once per read of
    Nexus, not per event, and the client has everything made so far while the thread waits;
    while working it holds the ``LANE``, and it leaves it whenever it waits. An upstream
    that does not say when it reads (a test double) has each batch handed on at once.

    The slot goes back in the worker thread itself when reading outlives the response (the
    client left mid-read), so it is free before that thread counts as idle.
    """

    def __init__(self, stream: MessageStream, slot: Slot | None, pipe: Pipe) -> None:
        self._stream = stream
        self._slot = slot
        self._pipe = pipe
        self._lane = LANE
        self._lock = threading.Lock()
        self._reading = self._ended = False
        self._gathered: list[bytes] = []
        self._size = 0
        self._reads = self._in_lane = self._stopped = False
        self.batches = 0

    def run(self) -> None:
        with self._lock:
            if self._ended:
                return
            self._reading = True
        try:
            with self._lane.reading():
                self._pump()
        finally:
            with self._lock:
                self._reading, ended = False, self._ended
            if ended:
                self._release()

    def _pump(self) -> None:
        try:
            with around_waits(self._before_wait, self._after_wait):
                for batch in self._stream:
                    self._gather(b"".join([sse(event) for event in batch]))
                    self.batches += 1
                    if self._stopped:
                        return
            self._hand_on()
        except Exception as error:  # after the first byte, errors travel in-band
            self._hand_on()
            self._pipe.end(error)
        else:
            self._pipe.end(None)
        finally:
            self._leave()

    def _gather(self, data: bytes) -> None:
        self._gathered.append(data)
        self._size += len(data)
        if not self._reads:
            self._hand_on()
        elif self._size >= GATHER_LIMIT and not self._handed_on_in_lane():
            self._hand_on()
            self._enter()

    def _handed_on_in_lane(self) -> bool:
        """Hand on what was gathered, keeping the lane, if the pipe has room now."""
        if self._stopped or not self._pipe.offer(b"".join(self._gathered)):
            return False
        self._gathered.clear()
        self._size = 0
        return True

    def _hand_on(self) -> None:
        """What was gathered, into the pipe; out of the lane first, as the pipe may be full."""
        self._leave()
        if self._gathered and not self._stopped:
            self._stopped = not self._pipe.put(b"".join(self._gathered))
        self._gathered.clear()
        self._size = 0

    def _before_wait(self) -> None:
        self._reads = True
        self._hand_on()

    def _after_wait(self) -> None:
        self._enter()

    def _enter(self) -> None:
        if not self._in_lane:
            self._in_lane = self._lane.enter()

    def _leave(self) -> None:
        if self._in_lane:
            self._in_lane = False
            self._lane.leave()

    def end(self) -> None:
        with self._lock:
            self._ended, reading = True, self._reading
        if not reading:
            self._release()

    def _release(self) -> None:
        if self._slot is not None:
            self._slot.release()


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # a read failing after close() is expected, not news


def _stopping(shutdown: ShutdownSignal | None) -> bool:
    # The flag, not the waiter: the waiter is woken a loop turn after the flag is set.
    return shutdown is not None and shutdown.begun


async def _wait(loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[None], timeout: float) -> None:
    # One future, completed by the reader, the client leaving or the server stopping (see
    # stream_events), or by this timer: cheaper per batch than asyncio.wait over three.
    timer = loop.call_later(max(timeout, 0), succeeded, waiter, None)
    try:
        await waiter
    finally:
        timer.cancel()


def _last(data: bytes, error: BaseException | None, shutdown: ShutdownSignal | None, request_id: str) -> bytes:
    """The final chunk: what is pending, then the error event if the stream failed."""
    if error is None:
        return data
    log.info("stream %s failed: %s", request_id, type(error).__name__)
    # Stopping closes Nexus's sockets too: say why the read failed.
    return data + sse(error_event(shutting_down_error() if _stopping(shutdown) else error))


async def stream_events(
    stream: MessageStream,
    *,
    runner: BlockingRunner,
    disconnected: Disconnected,
    ping_interval: float,
    request_id: str,
    idle_limit: float = 120.0,
    slot: Slot | None = None,
    shutdown: ShutdownSignal | None = None,
) -> AsyncGenerator[SSEvent, None]:
    """The SSE events of a message stream, many to a chunk, with pings while Nexus is silent.

    The stream is read in one pool thread; the client leaving closes the upstream at
    once rather than after Nexus's next event, and ``idle_limit`` seconds without a
    batch from Nexus end the stream with a ``timeout_error`` event, as the server
    stopping (``shutdown``) ends it with an ``api_error``. ``slot`` (the stream's place
    under the stream limit) is released once the reading is over.
    """
    # This generator owns the stream: ``with`` closes the upstream however it ends,
    # client gone or Falcon closing the generator included.
    with stream:
        loop = asyncio.get_running_loop()
        pipe = Pipe(loop, PIPE_LIMIT)
        reader = _Reader(stream, slot, pipe)
        disconnected.call_on_set(pipe.wake)
        stopping = shutdown.waiter() if shutdown is not None else loop.create_future()
        stopping.add_done_callback(pipe.wake)
        started = time.perf_counter()
        work = runner.submit(reader.run)
        try:
            deadline = loop.time() + idle_limit
            while True:
                waiter = pipe.waiter()
                # A client gone before the first wait has nobody to wake this one.
                if waiter is not None and not disconnected.is_set():
                    await _wait(loop, waiter, min(ping_interval, deadline - loop.time()))
                if disconnected.is_set():
                    log.info("client left stream %s; closing upstream", request_id)
                    return
                if _stopping(shutdown):
                    log.info("stream %s ended: the server is stopping", request_id)
                    yield Chunk(sse(error_event(shutting_down_error())))
                    return
                data, ended, error = pipe.take()
                if ended:
                    if last := _last(data, error, shutdown, request_id):
                        yield Chunk(last)
                    return
                if data:
                    deadline = loop.time() + idle_limit
                    yield Chunk(data)
                elif loop.time() >= deadline:
                    log.info("stream %s: Nexus silent for %g s; closing upstream", request_id, idle_limit)
                    yield Chunk(sse(error_event(idle_error(idle_limit))))
                    return
                else:
                    yield Chunk(sse(_PING))
        finally:
            log.debug(
                "stream %s ended: %d batches in %.0f ms",
                request_id,
                reader.batches,
                (time.perf_counter() - started) * 1000,
            )
            disconnected.forget(pipe.wake)
            stopping.cancel()
            pipe.close()
            reader.end()
            work.add_done_callback(_consume)
