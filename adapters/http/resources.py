"""Falcon resources: the Anthropic Messages API surface Claude Code uses."""

from __future__ import annotations

import logging
from typing import Any

import attrs
import falcon
import falcon.asgi

from adapters.http.anthropic_wire import structure_request, unstructure
from adapters.http.body import parse_json, read_body
from adapters.http.disconnect import disconnect_event
from adapters.http.sse import stream_events
from adapters.http.threads import BlockingRunner
from domain.rules.betas import split_header
from domain.services.relay import MessageRelay, Prepared
from domain.vocab import anthropic as a

log = logging.getLogger("nexus_claude_api.http")


def _summary(request: a.MessagesRequest, prepared: Prepared, size: int) -> str:
    return (
        f"model={request.model}->{prepared.model.upstream_id} messages={len(request.messages)} "
        f"tools={len(request.tools or ())} stream={request.stream} bytes={size} "
        f"thinking={prepared.translation.thinking} dropped={','.join(prepared.translation.dropped) or '-'}"
    )


def decode_request(data: bytes, beta_header: str) -> a.MessagesRequest:
    """The request from its JSON body, with the ``anthropic-beta`` header's flags added."""
    request = structure_request(parse_json(data))
    return attrs.evolve(request, betas=(*split_header([beta_header]), *request.betas))


@attrs.frozen
class MessagesResource:
    """``POST /v1/messages``: one message, streamed as SSE or returned whole."""

    relay: MessageRelay
    runner: BlockingRunner
    max_body_bytes: int
    ping_interval: float = 15.0

    def _decode(self, data: bytes, beta_header: str) -> tuple[a.MessagesRequest, Prepared]:
        request = decode_request(data, beta_header)
        return request, self.relay.prepare(request)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        data = await read_body(req, self.max_body_bytes)
        betas = req.get_header("anthropic-beta", default="")
        request, prepared = await self.runner.run(self._decode, data, betas)
        log.debug("messages %s %s", req.context.request_id, _summary(request, prepared, len(data)))
        if not request.stream:
            message = await self.runner.run(self.relay.create, request, prepared)
            resp.media = unstructure(message)
            return
        stream = await self.runner.run(self.relay.open_stream, request, prepared)
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")
        resp.sse = stream_events(
            stream,
            runner=self.runner,
            disconnected=disconnect_event(req.scope),
            ping_interval=self.ping_interval,
            request_id=req.context.request_id,
        )


@attrs.frozen
class CountTokensResource:
    """``POST /v1/messages/count_tokens``: the same body as a message, without max_tokens."""

    relay: MessageRelay
    runner: BlockingRunner
    max_body_bytes: int

    def _count(self, data: bytes, beta_header: str) -> int:
        prepared = self.relay.prepare(decode_request(data, beta_header), counting=True)
        return self.relay.count_tokens(prepared)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        data = await read_body(req, self.max_body_bytes)
        count = await self.runner.run(self._count, data, req.get_header("anthropic-beta", default=""))
        resp.media = {"input_tokens": count}


@attrs.frozen
class HealthResource:
    """``GET /``, ``GET /health`` and ``HEAD /`` (Claude Code's warm-up probe)."""

    info: dict[str, Any]

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"status": "healthy", **self.info}

    async def on_head(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.status = falcon.HTTP_200
