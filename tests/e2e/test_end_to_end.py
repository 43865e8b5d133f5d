"""The real proxy, end to end: the anthropic SDK -> uvicorn -> requests -> fake AI Nexus."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.fake_nexus import (
    Cut,
    FakeNexus,
    Gate,
    JsonReply,
    RawBytes,
    StreamException,
    StreamReply,
    block_delta,
    error_reply,
    message_start,
    text_reply,
    text_stream,
    token_usage,
)
from tests.support.proxy import HELLO, KEY, sdk_client
from tests.support.sse_client import leave_after_first_delta, post_stream, sse_events, text_deltas

if TYPE_CHECKING:
    import anthropic

# Nexus answers at once here; a stall must not hold a test for the default read timeout.
PROXY_SETTINGS = {"read_timeout": 5.0}
WAIT = 10


def test_text_message_reaches_nexus_as_a_valid_converse_call(
    client: anthropic.Anthropic, fake_nexus: FakeNexus
) -> None:
    fake_nexus.enqueue(text_reply("Hello there", input_tokens=11, output_tokens=2))
    message = client.messages.create(
        # SDK 2.x dropped sampling parameters (API 2026-10-21); older clients still send them.
        **HELLO,
        system="Be brief",
        stop_sequences=["###"],
        metadata={"user_id": "u"},
        extra_body={"temperature": 0.3},
    )
    assert [block.text for block in message.content] == ["Hello there"]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (11, 2)
    [sent] = fake_nexus.requests
    assert (sent.operation, sent.model_id, sent.errors) == ("converse", "claude-opus-4.6", [])
    assert sent.header("Authorization") == f"Bearer {KEY}"
    assert sent.body["system"] == [{"text": "Be brief"}]
    assert sent.body["inferenceConfig"] == {"maxTokens": 256, "temperature": 0.3, "stopSequences": ["###"]}


def test_aliases_are_resolved_before_nexus_sees_them(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    for model in ("claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022", "haiku"):
        # The model that served the request, not the alias asked for (pitfalls.md #25).
        assert client.messages.create(**{**HELLO, "model": model}).model == "claude-opus-4.6"
    assert {r.model_id for r in fake_nexus.requests} == {"claude-opus-4.6"}


def test_streamed_text_through_the_sdk(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(text_stream("Hel", "lo", " world", usage=token_usage(40, 3, cacheReadInputTokens=100)))
    with client.messages.stream(**HELLO) as stream:
        assert stream.get_final_text() == "Hello world"
        final = stream.get_final_message()
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens, final.usage.output_tokens) == (40, 100, 3)
    assert fake_nexus.requests[0].operation == "converse-stream"


@pytest.mark.parametrize(
    ("reply", "exception", "words"),
    [
        (error_reply(400, "ValidationException", "The text field is blank."), "BadRequestError", "blank"),
        (
            error_reply(403, "AccessDeniedException", "Authentication failed", capital_m=True),
            "PermissionDeniedError",
            "config set --api-key",
        ),
        (error_reply(429, "ThrottlingException", "Too many tokens"), "RateLimitError", "Too many tokens"),
        (error_reply(503, "ServiceUnavailableException", "busy"), "InternalServerError", "busy"),
    ],
)
def test_nexus_errors_reach_the_sdk_as_anthropic_errors(
    client: anthropic.Anthropic,
    fake_nexus: FakeNexus,
    reply: JsonReply,
    exception: str,
    words: str,
) -> None:
    import anthropic  # by name above: collection does not import the SDK

    fake_nexus.enqueue(reply)
    with pytest.raises(getattr(anthropic, exception)) as caught:
        client.messages.create(**HELLO)
    assert words in str(caught.value) and KEY not in str(caught.value)
    fake_nexus.enqueue(text_reply("still serving"))
    assert client.messages.create(**HELLO).content[0].text == "still serving"


def test_unreachable_nexus_is_a_clear_502(serve_proxy: Callable[..., str]) -> None:
    import anthropic

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with sdk_client(serve_proxy(dead, connect_timeout=2.0)) as client:
        with pytest.raises(anthropic.APIStatusError) as caught:
            client.messages.create(**HELLO)
        assert caught.value.status_code == 502 and "cannot connect to AI Nexus" in str(caught.value)


def test_each_upstream_event_is_forwarded_before_the_next_arrives(proxy_url: str, fake_nexus: FakeNexus) -> None:
    seen = [threading.Event() for _ in range(3)]
    reply = text_stream("a", "b", "c")
    items = list(reply.items)
    # Hold each later delta until the client has read the one before it.
    items.insert(3, Gate(seen[1]))
    items.insert(2, Gate(seen[0]))
    fake_nexus.enqueue(StreamReply(items))
    assert text_deltas(proxy_url, HELLO, arrived=seen) == ["a", "b", "c"]


def _deltas_then(*tail: Any) -> StreamReply:
    return StreamReply([message_start(), block_delta(0, {"text": "partial"}), *tail])


@pytest.mark.parametrize(
    ("tail", "kind", "words"),
    [
        ((StreamException("throttlingException", "Rate exceeded"),), "rate_limit_error", "Rate exceeded"),
        ((StreamException("modelStreamErrorException", "model broke"),), "api_error", "model broke"),
        ((RawBytes(b"\x00\x00\x00\x30garbage-that-is-not-a-frame..........."),), "api_error", "corrupt"),
        ((Cut(),), "api_error", "was cut"),
        ((), "api_error", "before the message was complete"),
    ],
)
def test_upstream_failures_mid_stream_end_with_an_error_event(
    proxy_url: str, fake_nexus: FakeNexus, tail: tuple[Any, ...], kind: str, words: str
) -> None:
    fake_nexus.enqueue(_deltas_then(*tail))
    with post_stream(proxy_url, HELLO) as response:
        assert response.status_code == 200
        events = list(sse_events(response))
    name, data = events[-1]
    assert name == "error" and data["error"]["type"] == kind and words in data["error"]["message"]
    assert "message_stop" not in [n for n, _ in events]


def test_a_silent_upstream_times_out_into_an_error_event(
    serve_proxy: Callable[..., str], fake_nexus: FakeNexus
) -> None:
    never = threading.Event()
    reply = _deltas_then(Gate(never))
    fake_nexus.enqueue(reply)
    with post_stream(serve_proxy(read_timeout=0.5), HELLO) as response:
        events = list(sse_events(response))
    assert events[-1][1]["error"]["type"] == "timeout_error"
    assert reply.client_closed.wait(WAIT), "the proxy kept the dead upstream open"


def test_client_disconnect_closes_the_nexus_connection(
    proxy_url: str, client: anthropic.Anthropic, fake_nexus: FakeNexus
) -> None:
    reply = _deltas_then(Gate(threading.Event()))
    fake_nexus.enqueue(reply)
    leave_after_first_delta(proxy_url, HELLO, reply.client_closed)
    fake_nexus.enqueue(text_reply("next request works"))
    assert client.messages.create(**HELLO).content[0].text == "next request works"
