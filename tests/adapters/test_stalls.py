"""A stream whose upstream goes silent ends with ``timeout_error`` after the idle limit."""

from __future__ import annotations

import json
import threading

import pytest

from domain.errors import ConfigError
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_events
from tests.support.in_process import post_raw, sse_frames

HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def _silent_after_first_delta(gateway: FakeConverseGateway) -> threading.Event:
    never = threading.Event()  # held until the proxy closes the stream
    gateway.on_stream = lambda _: [*text_events("partial")[:2], never, *text_events("never")[1:]]
    return never


def test_a_silent_upstream_ends_the_stream_with_timeout_error_and_is_closed() -> None:
    gateway = FakeConverseGateway()
    _silent_after_first_delta(gateway)
    app = create_app(Settings(api_key="k", stream_idle_limit=0.2), gateway, ping_interval=15.0)
    status, raw = post_raw(app, json.dumps(HELLO).encode())
    events = sse_frames(raw)
    assert status == 200
    assert [name for name, _ in events][:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert events[-1] == (
        "error",
        {
            "type": "error",
            "error": {"type": "timeout_error", "message": "AI Nexus sent nothing for 0.2 s; the stream was ended"},
        },
    )
    assert "message_stop" not in [name for name, _ in events]
    assert gateway.streams[0].closed.is_set(), "the silent upstream was left open"


def test_pings_keep_the_client_waiting_until_the_idle_limit() -> None:
    gateway = FakeConverseGateway()
    _silent_after_first_delta(gateway)
    app = create_app(Settings(api_key="k", stream_idle_limit=0.3), gateway, ping_interval=0.02)
    _, raw = post_raw(app, json.dumps(HELLO).encode())
    names = [name for name, _ in sse_frames(raw)]
    assert "ping" in names
    assert names[-1] == "error" and names.index("ping") > names.index("content_block_delta")


def test_an_upstream_that_keeps_talking_is_not_cut() -> None:
    gateway = FakeConverseGateway()
    gateway.on_stream = lambda _: text_events(*(["word "] * 50))
    app = create_app(Settings(api_key="k", stream_idle_limit=0.2), gateway)
    _, raw = post_raw(app, json.dumps(HELLO).encode())
    assert sse_frames(raw)[-1][0] == "message_stop"


@pytest.mark.parametrize("limit", [0.0, 290.5, 300.0, float("inf"), float("nan")])
def test_the_idle_limit_stays_under_claude_codes_watchdog(limit: float) -> None:
    with pytest.raises(ConfigError, match="stream_idle_limit"):
        Settings(api_key="k", stream_idle_limit=limit)
