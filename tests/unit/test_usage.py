"""Usage as Bedrock reports it: cache writes by lifetime and thinking tokens."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.http.anthropic_wire import unstructure
from adapters.nexus.converse_wire import parse_response
from domain.to_anthropic.response import translate_response, usage
from domain.to_anthropic.stream import StreamTranslator
from domain.vocab import anthropic as a
from domain.vocab import converse as c

THINKING_FIELDS = {"usage": {"output_tokens_details": {"thinking_tokens": 61}}}


def tokens(**kw: Any) -> c.TokenUsage:
    return c.TokenUsage(input_tokens=5, output_tokens=80, total_tokens=0, **kw)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (
            {
                "cache_write_input_tokens": 700,
                "cache_details": (c.CacheDetail(ttl="1h", input_tokens=500), c.CacheDetail(ttl="5m", input_tokens=200)),
            },
            a.CacheCreation(ephemeral_5m_input_tokens=200, ephemeral_1h_input_tokens=500),
        ),
        ({"cache_write_input_tokens": 300}, a.CacheCreation(ephemeral_5m_input_tokens=300)),
        (
            {"cache_write_input_tokens": 0, "cache_details": (c.CacheDetail(ttl="5m", input_tokens=0),)},
            a.CacheCreation(),
        ),
        ({"cache_write_input_tokens": 0, "cache_read_input_tokens": 9}, None),
        ({}, None),
    ],
)
def test_cache_writes_are_split_by_lifetime(kw: dict[str, Any], expected: a.CacheCreation | None) -> None:
    assert usage(tokens(**kw)).cache_creation == expected


def test_thinking_tokens_come_from_the_additional_response_fields() -> None:
    assert usage(tokens(), THINKING_FIELDS).output_tokens_details == a.OutputTokensDetails(thinking_tokens=61)
    assert (
        usage(tokens(), {"usage": {"output_tokens_details": {"thinking_tokens": "61"}}}).output_tokens_details is None
    )
    assert usage(tokens(), {"delta": {"stop_sequence": None}}).output_tokens_details is None


def test_the_json_response_carries_the_split_and_thinking_tokens_and_no_count_duplicates() -> None:
    body = {
        "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": 5,
            "outputTokens": 80,
            "totalTokens": 1785,
            "cacheReadInputTokens": 1000,
            "cacheWriteInputTokens": 700,
            "cacheReadInputTokenCount": 1000,
            "cacheWriteInputTokenCount": 700,
            "cacheDetails": [{"ttl": "1h", "inputTokens": 500}, {"ttl": "5m", "inputTokens": 200}],
        },
        "metrics": {"latencyMs": 1},
        "additionalModelResponseFields": THINKING_FIELDS,
    }
    out = unstructure(translate_response(parse_response(body), model="m", tool_names={}))
    assert out["usage"] == {
        "input_tokens": 5,
        "output_tokens": 80,
        "cache_creation_input_tokens": 700,
        "cache_read_input_tokens": 1000,
        "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 500},
        "output_tokens_details": {"thinking_tokens": 61},
    }


def test_the_final_message_delta_carries_the_split_and_thinking_tokens() -> None:
    translator = StreamTranslator(tool_names={})
    translator.feed(c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text="hi")))
    translator.feed(c.MessageStopEvent(stop_reason="end_turn", additional_model_response_fields=THINKING_FIELDS))
    details = (c.CacheDetail(ttl="1h", input_tokens=40),)
    events = translator.feed(c.MetadataEvent(usage=tokens(cache_write_input_tokens=40, cache_details=details)))
    [final] = [e for e in events if isinstance(e, a.MessageDeltaEvent)]
    assert unstructure(final)["usage"] == {
        "input_tokens": 5,
        "output_tokens": 80,
        "cache_creation_input_tokens": 40,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 40},
        "output_tokens_details": {"thinking_tokens": 61},
    }
