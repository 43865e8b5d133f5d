"""The per-request line and the session summary: what was spent, never what was said."""

from __future__ import annotations

import logging

import pytest

from adapters.http.traffic import Exchange, TrafficLog, line
from domain.vocab import anthropic as a

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
    assert [r.getMessage().split(" ", 1)[1][:16] for r in caplog.records] == ["claude-fable-5-2", "claude-opus-4.6 "]
    summary = traffic.summary()
    assert "2 requests, errors: rate_limit_error 1" in summary
    assert "input 12, output 40, cache read 23800, cache write 100" in summary
    assert "cache hit ratio (cache read / all prompt tokens): 99.5%" in summary
