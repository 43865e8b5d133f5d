"""The proxy and the fake it forwards to, as the measurements use them.

Every figure is taken twice in the same run: through the proxy, and with the same traffic
sent straight to the fake. "The same traffic" is exact: ``twin`` sends a request through the
proxy once and asks the fake for the bytes the proxy sent upstream, so the direct request
posts that very Converse body to that very path.
"""

from __future__ import annotations

import copy
import json
import ssl
from typing import Any

from bench.claude_code_request import claude_code_request
from bench.fake_server import delta_text
from bench.http_client import Connection, json_post, request_bytes
from bench.processes import FakeProcess, ServerProcess

LOOPBACK = "127.0.0.1"
MODEL = "claude-opus-4.6"
# The direct request is the proxy's upstream call, from a proxy that spends `converse-stream`.
STREAM_OPERATION = "converse-stream"


def stream_prompt(deltas: int) -> dict[str, Any]:
    """A streamed request the fake answers with ``deltas`` text deltas."""
    content = f"go [[bench deltas={deltas}]]"
    return {"model": MODEL, "max_tokens": 4096, "stream": True, "messages": [{"role": "user", "content": content}]}


def claude_code_body(*, stream: bool) -> dict[str, Any]:
    """The ~110 KB Claude Code request of ``claude_code_request``, streamed or not."""
    body = copy.deepcopy(claude_code_request())
    body["stream"] = stream
    return body


class Rig:
    """A running proxy and fake; builds requests for each and connections to each."""

    def __init__(self, fake: FakeProcess, proxy: ServerProcess, fake_tls: ssl.SSLContext | None = None) -> None:
        self.fake = fake
        self.proxy = proxy
        self.fake_tls = fake_tls  # the fake serves HTTPS: how to trust it
        self.proxy_host = f"{LOOPBACK}:{proxy.port}"
        self.fake_host = f"{LOOPBACK}:{fake.port}"

    def to_proxy(self, body: dict[str, Any]) -> bytes:
        return json_post("/v1/messages", self.proxy_host, body)

    async def proxy_connection(self) -> Connection:
        return await Connection.open(LOOPBACK, self.proxy.port)

    async def fake_connection(self) -> Connection:
        return await Connection.open(LOOPBACK, self.fake.port, self.fake_tls)

    async def fake_get(self, path: str) -> bytes:
        connection = await self.fake_connection()
        try:
            return (await connection.exchange(request_bytes("GET", path, self.fake_host))).body
        finally:
            await connection.close()

    async def twin(self, proxy_request: bytes, operation: str) -> bytes:
        """Send ``proxy_request`` through the proxy; return the direct request that posts the
        body the proxy sent upstream to the fake."""
        connection = await self.proxy_connection()
        try:
            answer = await connection.exchange(proxy_request)
        finally:
            await connection.close()
        if answer.status != 200:
            raise RuntimeError(f"the proxy answered {answer.status}: {answer.body[:300]!r}")
        body = await self.fake_get(f"/bench/last/{operation}")
        path = json.loads(await self.fake_get("/bench/stats"))["paths"][operation]
        return request_bytes("POST", path, self.fake_host, body, {"Content-Type": "application/json"})


def sse_check(body: bytes, deltas: int) -> tuple[int, bool]:
    """The number of SSE events in ``body``, and whether the text and the end are whole."""
    events = [raw for raw in body.replace(b"\r\n", b"\n").split(b"\n\n") if raw.strip()]
    texts, names = [], []
    for raw in events:
        fields = dict(line.split(b": ", 1) for line in raw.split(b"\n") if b": " in line)
        names.append(fields.get(b"event", b""))
        if names[-1] == b"content_block_delta":
            texts.append(json.loads(fields[b"data"])["delta"].get("text", ""))
    whole = "".join(texts) == "".join(delta_text(i) for i in range(deltas)) and names[-1:] == [b"message_stop"]
    return len(events), whole


def frame_count(body: bytes) -> int:
    """How many event-stream frames ``body`` holds (each starts with its total length)."""
    count, at = 0, 0
    while at + 4 <= len(body):
        at += int.from_bytes(body[at : at + 4], "big")
        count += 1
    return count if at == len(body) else -1
