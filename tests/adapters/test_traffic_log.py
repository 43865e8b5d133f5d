"""The per-request line and the session summary: what was spent, never what was said."""

from __future__ import annotations

import json
import logging

import pytest

from adapters.http.traffic import Exchange, TrafficLog, line
from domain.vocab import anthropic as a
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway
from tests.support.in_process import post_raw, sse_frames

STREAMED = Exchange(
    request_id="req_1",
    requested_model="claude-fable-5-2",
    upstream_model="claude-opus-4.6",
    streamed=True,
    status=200,
    total_s=3.2,
    first_token_s=0.84,
    usage=a.Usage(input_tokens=12, output_tokens=40, cache_read_input_tokens=23800, cache_creation_input_tokens=100),
)


def test_a_line_names_models_tokens_times_and_the_request_id() -> None:
    text = line(STREAMED, at=0)
    assert "claude-fable-5-2 -> claude-opus-4.6 stream 200" in text
    assert "in=12 out=40 cache_read=23800 cache_write=100" in text
    assert "first_token=0.84s total=3.20s req_1" in text


def test_the_summary_counts_requests_errors_and_tokens(caplog: pytest.LogCaptureFixture) -> None:
    traffic = TrafficLog()
    failed = Exchange(
        request_id="req_2",
        requested_model="claude-opus-4.6",
        upstream_model="claude-opus-4.6",
        streamed=False,
        status=429,
        total_s=0.1,
        error_type="rate_limit_error",
    )
    with caplog.at_level(logging.INFO, logger="nexus_claude_api.traffic"):
        traffic.record(STREAMED)
        traffic.record(failed)
    assert [r.getMessage().split(" ", 1)[1][:16] for r in caplog.records if r.name.endswith("traffic")] == [
        "claude-fable-5-2",
        "claude-opus-4.6 ",
    ]
    summary = traffic.summary()
    assert "2 requests, errors: rate_limit_error 1" in summary
    assert "input 12, output 40, cache read 23800, cache write 100" in summary
    assert "cache hit ratio (cache read / all prompt tokens): 99.5%" in summary


def test_the_real_app_records_each_message_request_without_contents(caplog: pytest.LogCaptureFixture) -> None:
    traffic = TrafficLog()
    gateway = FakeConverseGateway()
    app = create_app(Settings(api_key="k"), gateway, traffic=traffic)
    ask = {"model": "claude-fable-5-2", "max_tokens": 50, "messages": [{"role": "user", "content": "secret plan"}]}
    with caplog.at_level(logging.INFO, logger="nexus_claude_api.traffic"):
        assert post_raw(app, json.dumps(ask).encode())[0] == 200
        status, raw = post_raw(app, json.dumps({**ask, "stream": True}).encode())
        assert status == 200 and sse_frames(raw)[-1][0] == "message_stop"
        assert post_raw(app, json.dumps({**ask, "max_tokens": "x"}).encode())[0] == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "nexus_claude_api.traffic"]
    assert len(lines) == 3
    assert "claude-fable-5-2 -> claude-opus-4.6 whole 200 in=12 out=3" in lines[0]
    assert "claude-fable-5-2 -> claude-opus-4.6 stream 200 in=20 out=2" in lines[1]
    assert "first_token=" in lines[1] and "first_token=-" not in lines[1]
    assert " 400 invalid_request_error " in lines[2]
    assert not any("secret plan" in line for line in lines)
    assert "3 requests, errors: invalid_request_error 1" in traffic.summary()
