"""Reading Anthropic SSE as it arrives, the way Claude Code does (no line buffering)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import requests


def sse_events(response: requests.Response) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Yield ``(event name, data)`` for each SSE event as soon as its bytes arrive."""
    buffer = b""
    while True:
        chunk = response.raw.read1(65536)
        if not chunk:
            return
        buffer += chunk.replace(b"\r\n", b"\n")
        while b"\n\n" in buffer:
            raw, buffer = buffer.split(b"\n\n", 1)
            name, data = None, []
            for line in raw.decode("utf-8").split("\n"):
                field, _, value = line.partition(":")
                if field == "event":
                    name = value.strip()
                elif field == "data":
                    data.append(value.removeprefix(" "))
            if data:
                yield name, json.loads("\n".join(data))


def post_stream(url: str, body: dict[str, Any], **kwargs: Any) -> requests.Response:
    return requests.post(f"{url}/v1/messages", json={**body, "stream": True}, stream=True, timeout=30, **kwargs)


def text_deltas(url: str, body: dict[str, Any], *, arrived: Sequence[threading.Event] = ()) -> list[str]:
    """Stream one message and return its text deltas; ``arrived[i]`` is set the moment
    delta ``i`` has been read, so that an upstream can hold ``i + 1`` until then."""
    texts: list[str] = []
    with post_stream(url, body) as response:
        for name, data in sse_events(response):
            if name == "content_block_delta":
                texts.append(data["delta"]["text"])
                if len(texts) <= len(arrived):
                    arrived[len(texts) - 1].set()
    return texts


def leave_after_first_delta(url: str, body: dict[str, Any], nexus_saw_close: threading.Event) -> None:
    """Open a stream, read up to its first delta, then close it; Nexus must see the close."""
    response = post_stream(url, body)
    events = sse_events(response)
    assert [next(events)[0] for _ in range(3)] == ["message_start", "content_block_start", "content_block_delta"]
    response.close()
    assert nexus_saw_close.wait(10), "Nexus never saw the connection close"
