"""Falcon resources: the Anthropic Messages API surface Claude Code uses.

Each responder reads the request, hands it to one domain collaborator (in the thread
pool when the work blocks) and writes the answer; errors travel as domain exceptions to
the table in ``adapters/http/errors.py``.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import attrs
import falcon
import falcon.asgi

from adapters.http.anthropic_wire import structure_request, unstructure
from adapters.http.body import parse_json, read_body
from adapters.http.disconnect import ShutdownSignal, disconnect_event, shutting_down_error, unless_stopping
from adapters.http.json_limits import to_json_bytes
from adapters.http.observed_stream import ObservedStream
from adapters.http.sse import stream_events
from adapters.http.threads import BlockingRunner, ByteBudget, Slot, StreamSlots
from adapters.http.traffic import StreamAccount, TrafficLog
from domain.errors import InvalidRequestError, ProxyBusyError
from domain.rules.betas import split_header
from domain.rules.models import ModelCatalog
from domain.services.relay import MessageRelay, MessageStream, Prepared
from domain.vocab import anthropic as a

log = logging.getLogger("nexus_claude_api.http")


def _summary(prepared: Prepared, size: int) -> str:
    request = prepared.request
    return (
        f"model={request.model}->{prepared.model.upstream_id} messages={len(request.messages)} "
        f"tools={len(request.tools or ())} stream={request.stream} bytes={size} "
        f"thinking={prepared.translation.thinking} dropped={','.join(prepared.translation.dropped) or '-'}"
    )


def decode_request(data: bytes | list[bytes], beta_header: str) -> a.MessagesRequest:
    """The request from its JSON body, with the ``anthropic-beta`` header's flags added.

    A one-item list hands the body over: its bytes are freed once decoded.
    """
    request = structure_request(parse_json(data))
    return attrs.evolve(request, betas=(*split_header([beta_header]), *request.betas))


AUTO_MODE_WARNING = (
    "Claude Code asked for auto mode's server-side safety check, which Bedrock cannot run; "
    "its actions are refused or asked about until Claude Code runs its own check: start it "
    "with CLAUDE_CODE_AUTO_MODE_SERVER=0 (the printed launch command sets it)"
)


class OnceNotice:
    """A warning logged the first time it is due, then never again in this process."""

    def __init__(self, message: str) -> None:
        self._message = message
        self._lock = threading.Lock()
        self._given = False

    def give(self) -> None:
        """Log the warning unless it was already logged."""
        with self._lock:
            if self._given:
                return
            self._given = True
        log.warning(self._message)


def body_size(req: falcon.asgi.Request, limit: int) -> int:
    """The bytes a body will hold: its declared length, or the limit when it declares none."""
    length = req.content_length
    return limit if length is None else min(length, limit)


def _refuse_if_stopping(shutdown: ShutdownSignal | None) -> None:
    # A request on a kept-alive connection may still arrive while the server stops.
    if shutdown is not None and shutdown.begun:
        raise shutting_down_error()


def take_slot(slots: StreamSlots) -> Slot:
    """A place among the streams and long calls, or a 429 telling the client to retry."""
    slot = slots.try_take()
    if slot is None:
        raise ProxyBusyError(
            f"nexus-claude-api is serving {slots.limit} streams, its limit; retry shortly "
            "(the limit is max_streams in the config file)"
        )
    return slot


@attrs.frozen(kw_only=True)
class Served:
    """A message's outcome in the pool: the answer (usage, JSON) or the opened stream."""

    prepared: Prepared
    answer: tuple[a.Usage, bytes] | None = None
    stream: MessageStream | None = None

    def close(self) -> None:
        """Close the stream, if one was opened (a call abandoned at shutdown)."""
        if self.stream is not None:
            self.stream.close()


def _note(context: Any, prepared: Prepared, size: int) -> None:
    # What the request summary and the traffic log need, failed call or not.
    if log.isEnabledFor(logging.DEBUG):  # the summary is built only when it is logged
        log.debug("messages %s %s", context.request_id, _summary(prepared, size))
    context.models = (prepared.request.model, prepared.model.upstream_id)
    context.streaming = prepared.request.stream


@attrs.frozen
class MessagesResource:
    """``POST /v1/messages``: one message, streamed as SSE or returned whole.

    One pool hop per request: parsing, translation and the Nexus call (with the answer's
    JSON, or the stream's opening) run on ``runner`` in one go, holding one of ``slots``
    throughout. With no slot free at arrival, parsing and translation run on ``short``
    first, so a bad body is still told as such; past the limit then: 429, never a queue.
    """

    relay: MessageRelay
    runner: BlockingRunner
    max_body_bytes: int
    short: BlockingRunner
    slots: StreamSlots
    budget: ByteBudget
    ping_interval: float = 15.0
    idle_limit: float = 120.0
    shutdown: ShutdownSignal | None = None
    auto_mode_notice: OnceNotice = attrs.field(factory=lambda: OnceNotice(AUTO_MODE_WARNING))
    traffic: TrafficLog | None = None

    def _decode(self, body: list[bytes], beta_header: str, context: Any, size: int) -> Prepared:
        # Taken from the list, the body's bytes are freed once parsed, before translation.
        request = decode_request(body, beta_header)
        if request.safeguards:  # accepted, never forwarded, never logged
            self.auto_mode_notice.give()
        prepared = self.relay.prepare(request)
        _note(context, prepared, size)
        return prepared

    def _answer(self, prepared: Prepared) -> tuple[a.Usage, bytes]:
        # Nexus's answer, translated and written as JSON.
        # Not resp.media: Falcon's encoder fails on a lone surrogate Nexus sent.
        message = self.relay.create(prepared)
        return message.usage, to_json_bytes(unstructure(message), compact=True)

    def _call(self, slot: Slot, prepared: Prepared) -> Served:
        # The slot is released in the worker thread once the call is over, so it never
        # outlives its thread's work and the long pool, as wide as the slots, never queues;
        # a stream's is released by sse.stream_events at its end.
        if not prepared.request.stream:
            try:
                return Served(prepared=prepared, answer=self._answer(prepared))
            finally:
                slot.release()
        try:
            return Served(prepared=prepared, stream=self.relay.open_stream(prepared))
        except BaseException:
            slot.release()
            raise

    def _whole(self, slot: Slot, body: list[bytes], beta_header: str, context: Any, size: int) -> Served:
        try:
            prepared = self._decode(body, beta_header, context, size)
        except BaseException:
            slot.release()
            raise
        return self._call(slot, prepared)

    async def _served(self, req: falcon.asgi.Request) -> tuple[Served, Slot]:
        body = [await read_body(req, self.max_body_bytes)]
        args = (body, req.get_header("anthropic-beta", default=""), req.context, len(body[0]))
        slot = self.slots.try_take()
        if slot is None:
            # None free: a bad body is refused as such before the 429 (or a slot frees meanwhile).
            prepared = await self.short.run(self._decode, *args)
            slot = take_slot(self.slots)
            call = self.runner.submit(self._call, slot, prepared)
        else:
            call = self.runner.submit(self._whole, slot, *args)
        return await unless_stopping(call, self.shutdown), slot

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer one message: whole JSON, or SSE opened only once Nexus has accepted it."""
        # The body counts against the budget until Nexus has taken the request.
        _refuse_if_stopping(self.shutdown)
        with self.budget.hold(body_size(req, self.max_body_bytes)):
            served, slot = await self._served(req)
        if served.stream is None:
            assert served.answer is not None  # one or the other, by _call
            req.context.usage, resp.data = served.answer
            return
        # From here the slot is the stream's: sse.stream_events releases it at the end.
        stream: MessageStream = served.stream
        prepared = served.prepared
        if self.traffic is not None:
            account = StreamAccount(
                started=req.context.started,
                requested_model=prepared.request.model,
                upstream_model=prepared.model.upstream_id,
                request_id=req.context.request_id,
            )
            stream = ObservedStream.of(stream, account, self.traffic)
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")
        resp.sse = stream_events(
            stream,
            runner=self.runner,
            disconnected=disconnect_event(req.scope),
            ping_interval=self.ping_interval,
            request_id=req.context.request_id,
            idle_limit=self.idle_limit,
            slot=slot,
            shutdown=self.shutdown,
        )


@attrs.frozen
class CountTokensResource:
    """``POST /v1/messages/count_tokens``: the same body as a message, without max_tokens."""

    relay: MessageRelay
    runner: BlockingRunner
    max_body_bytes: int
    budget: ByteBudget
    shutdown: ShutdownSignal | None = None

    def _count(self, data: bytes, beta_header: str) -> int:
        prepared = self.relay.prepare(decode_request(data, beta_header), counting=True)
        return self.relay.count_tokens(prepared)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer ``{"input_tokens": n}``: Nexus's count, or the local estimate."""
        _refuse_if_stopping(self.shutdown)
        with self.budget.hold(body_size(req, self.max_body_bytes)):
            data = await read_body(req, self.max_body_bytes)
            counting = self.runner.submit(self._count, data, req.get_header("anthropic-beta", default=""))
            count = await unless_stopping(counting, self.shutdown)
        resp.media = {"input_tokens": count}


@attrs.frozen
class HealthResource:
    """``GET /``, ``GET /health`` and ``HEAD /`` (Claude Code's warm-up probe)."""

    info: dict[str, Any]

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Report healthy, with the version, the Nexus host and the models served."""
        resp.media = {"status": "healthy", **self.info}

    async def on_head(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer 200 with no body."""
        resp.status = falcon.HTTP_200


# No real release date is known for Nexus's models; any fixed RFC 3339 time will do.
CREATED_AT = "2026-01-01T00:00:00Z"


def display_name(model_id: str) -> str:
    """``claude-opus-4.6`` -> ``Claude Opus 4.6``."""
    return " ".join(part.capitalize() if part.isalpha() else part for part in model_id.split("-"))


def model_info(model_id: str) -> dict[str, Any]:
    """The Models API entry for one exposed model id."""
    return {"type": "model", "id": model_id, "display_name": display_name(model_id), "created_at": CREATED_AT}


_LIMIT = re.compile(r"[0-9]{1,4}")


def _limit(req: falcon.asgi.Request) -> int:
    raw = req.get_param("limit", default="20")
    # ASCII digits only: str.isdigit() also admits "²", which int() then refuses.
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= 1000:
        raise InvalidRequestError("limit: must be an integer between 1 and 1000")
    return int(raw)


def page(ids: tuple[str, ...], *, limit: int, after_id: str | None, before_id: str | None) -> dict[str, Any]:
    """One page of the list; cursors past either end give an empty, final page."""
    start, stop = 0, len(ids)
    if after_id is not None:
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
    if before_id is not None:
        stop = ids.index(before_id) if before_id in ids else 0
        start = max(start, stop - limit)
    chosen = ids[start:stop][:limit]
    has_more = (start + len(chosen) < stop) if before_id is None else start > 0
    return {
        "data": [model_info(i) for i in chosen],
        "has_more": has_more,
        "first_id": chosen[0] if chosen else None,
        "last_id": chosen[-1] if chosen else None,
    }


@attrs.frozen
class ModelsResource:
    """``GET /v1/models`` and ``GET /v1/models/{model_id}``: the exposed models."""

    catalog: ModelCatalog

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """One page of the exposed models, paged by ``limit``, ``after_id`` and ``before_id``."""
        resp.media = page(
            self.catalog.exposed,
            limit=_limit(req),
            after_id=req.get_param("after_id"),
            before_id=req.get_param("before_id"),
        )

    async def on_get_model(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, model_id: str) -> None:
        """The exposed model any Claude id resolves to; other ids are a 404."""
        # Raises ModelNotFoundError (404) for ids that are not Claude models.
        resp.media = model_info(self.catalog.resolve(model_id).exposed_id)
