"""Converse responses -> Anthropic messages: blocks, stop reasons, stop sequences, usage."""

from __future__ import annotations

from typing import Any

import pytest

from domain.to_anthropic.response import translate_response
from domain.vocab import anthropic as a
from domain.vocab import converse as c


def response(
    *blocks: c.ContentBlock, stop: str = "end_turn", fields: dict[str, Any] | None = None, **usage: Any
) -> c.ConverseResponse:
    return c.ConverseResponse(
        output=c.Output(message=c.Message(role="assistant", content=blocks)),
        stop_reason=stop,
        usage=c.TokenUsage(input_tokens=usage.pop("input_tokens", 7), output_tokens=3, total_tokens=10, **usage),
        additional_model_response_fields=fields,
    )


def test_text_response_keeps_the_requested_model_id_and_a_message_id() -> None:
    out = translate_response(response(c.TextContent(text="Hi")), model="claude-sonnet-4-5", tool_names={})
    assert out.model == "claude-sonnet-4-5"
    assert out.id.startswith("msg_") and len(out.id) > 10
    assert out.content == (a.TextBlock(type="text", text="Hi"),)
    assert (out.stop_reason, out.stop_sequence) == ("end_turn", None)
    assert out.usage == a.Usage(input_tokens=7, output_tokens=3)


@pytest.mark.parametrize(
    ("converse_reason", "anthropic_reason"),
    [
        ("end_turn", "end_turn"),
        ("max_tokens", "max_tokens"),
        ("tool_use", "tool_use"),
        ("stop_sequence", "stop_sequence"),
        ("model_context_window_exceeded", "model_context_window_exceeded"),
        ("guardrail_intervened", "refusal"),
        ("content_filtered", "refusal"),
        ("malformed_model_output", "end_turn"),
    ],
)
def test_stop_reasons(converse_reason: str, anthropic_reason: str) -> None:
    out = translate_response(response(stop=converse_reason), model="m", tool_names={})
    assert out.stop_reason == anthropic_reason


def test_matched_stop_sequence_is_reported() -> None:
    out = translate_response(
        response(c.TextContent(text="a"), stop="stop_sequence", fields={"delta": {"stop_sequence": "END"}}),
        model="m",
        tool_names={},
    )
    assert (out.stop_reason, out.stop_sequence) == ("stop_sequence", "END")


def test_cache_usage_is_mapped_without_subtracting_twice() -> None:
    out = translate_response(
        response(input_tokens=5, cache_read_input_tokens=2000, cache_write_input_tokens=300), model="m", tool_names={}
    )
    # Writes with no cacheDetails split count as 5m ones (the default cachePoint lifetime).
    assert out.usage == a.Usage(
        input_tokens=5,
        output_tokens=3,
        cache_read_input_tokens=2000,
        cache_creation_input_tokens=300,
        cache_creation=a.CacheCreation(ephemeral_5m_input_tokens=300),
    )
