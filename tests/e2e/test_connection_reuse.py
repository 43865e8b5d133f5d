"""A stream read to its end gives its Nexus connection back to the pool; others close it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from tests.support.fake_nexus import (
    FakeNexus,
    Gate,
    StreamException,
    StreamReply,
    block_delta,
    message_start,
    text_stream,
)
from tests.support.proxy import HELLO
from tests.support.sse_client import leave_after_first_delta

if TYPE_CHECKING:
    import anthropic

# Nexus answers at once here; a stall must not hold a test for the default read timeout.
PROXY_SETTINGS = {"read_timeout": 5.0}


def _streamed_text(client: anthropic.Anthropic) -> str:
    with client.messages.stream(**HELLO) as stream:
        return stream.get_final_text()


def test_sequential_streams_share_one_nexus_connection(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    before = fake_nexus.connections_accepted
    for i in range(5):
        fake_nexus.enqueue(text_stream(f"turn {i}"))
        assert _streamed_text(client) == f"turn {i}"
    assert fake_nexus.connections_accepted - before == 1


def test_a_stream_the_client_left_closes_its_connection(
    proxy_url: str, client: anthropic.Anthropic, fake_nexus: FakeNexus
) -> None:
    fake_nexus.enqueue(text_stream("warm"))
    assert _streamed_text(client) == "warm"
    before = fake_nexus.connections_accepted
    reply = StreamReply([message_start(), block_delta(0, {"text": "partial"}), Gate(threading.Event())])
    fake_nexus.enqueue(reply)
    leave_after_first_delta(proxy_url, HELLO, reply.client_closed)
    fake_nexus.enqueue(text_stream("after"))
    assert _streamed_text(client) == "after"
    # The pooled connection was the one left: the next stream needed a new one.
    assert fake_nexus.connections_accepted - before == 1


def test_a_failed_stream_does_not_go_back_to_the_pool(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    import anthropic

    fake_nexus.enqueue(text_stream("warm"))
    assert _streamed_text(client) == "warm"
    before = fake_nexus.connections_accepted
    fake_nexus.enqueue(StreamReply([message_start(), StreamException("throttlingException", "Rate exceeded")]))
    with pytest.raises(anthropic.APIError):
        _streamed_text(client)
    fake_nexus.enqueue(text_stream("after"))
    assert _streamed_text(client) == "after"
    assert fake_nexus.connections_accepted - before == 1
