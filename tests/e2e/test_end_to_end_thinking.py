"""Extended thinking, betas and Claude Code's recovery wordings, end to end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.fake_nexus import (
    FakeNexus,
    JsonReply,
    StreamReply,
    block_delta,
    block_stop,
    error_reply,
    message_stream,
    text_reply,
    token_usage,
    tool_use_events,
)

if TYPE_CHECKING:
    import anthropic

SIGNATURE = "EqQBCkYIBxgCKkB+/sig==" * 4
TOOL: anthropic.types.ToolParam = {
    "name": "Read",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}
ASK: anthropic.types.MessageParam = {"role": "user", "content": "What is in notes.txt?"}
THINKING: anthropic.types.ThinkingConfigEnabledParam = {"type": "enabled", "budget_tokens": 31999}


def thinking_then_tool() -> StreamReply:
    reasoning = [
        block_delta(0, {"reasoningContent": {"text": "The user wants "}}),
        block_delta(0, {"reasoningContent": {"text": "the file."}}),
        block_delta(0, {"reasoningContent": {"signature": SIGNATURE}}),
        block_stop(0),
    ]
    tool = tool_use_events(1, "tooluse_r1", "Read", ['{"path": "notes.txt"}'])
    usage = token_usage(900, 40, cacheWriteInputTokens=800)
    return message_stream([*reasoning, *tool], stop_reason="tool_use", usage=usage)


def test_streamed_thinking_with_signature_is_replayed_byte_exact(
    client: anthropic.Anthropic, fake_nexus: FakeNexus
) -> None:
    fake_nexus.enqueue(thinking_then_tool(), text_reply("It says hello."))
    request: dict[str, Any] = {"model": "claude-opus-4.6", "max_tokens": 32000, "thinking": THINKING, "tools": [TOOL]}
    with client.messages.stream(**request, messages=[ASK]) as stream:
        first = stream.get_final_message()
    thinking, tool_use = first.content
    assert (
        thinking.type == "thinking"
        and thinking.thinking == "The user wants the file."
        and thinking.signature == SIGNATURE
    )
    assert tool_use.type == "tool_use" and tool_use.input == {"path": "notes.txt"}
    assert first.usage.cache_creation_input_tokens == 800

    history: list[Any] = [
        ASK,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "hello"}]},
    ]
    client.messages.create(**request, messages=history, timeout=30)
    first_body, second_body = (r.body for r in fake_nexus.requests)
    assert first_body["additionalModelRequestFields"]["thinking"] == THINKING
    assert "temperature" not in first_body["inferenceConfig"]
    replayed = second_body["messages"][1]["content"]
    assert replayed[0] == {
        "reasoningContent": {"reasoningText": {"text": "The user wants the file.", "signature": SIGNATURE}}
    }
    assert list(replayed[1]) == ["toolUse"]
    assert second_body["additionalModelRequestFields"]["thinking"] == THINKING


def test_non_streamed_thinking_and_redacted_thinking(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(
        JsonReply(
            {
                "output": {
                    "message": {
                        "role": "assistant",
                        "content": [
                            {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": SIGNATURE}}},
                            {"reasoningContent": {"redactedContent": "AAECAw=="}},
                            {"text": "Answer."},
                        ],
                    }
                },
                "stopReason": "end_turn",
                "usage": token_usage(10, 5),
                "metrics": {"latencyMs": 1},
            }
        )
    )
    message = client.messages.create(
        model="claude-opus-4.6", max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000}, messages=[ASK]
    )
    assert [b.type for b in message.content] == ["thinking", "redacted_thinking", "text"]
    assert message.content[0].signature == SIGNATURE  # type: ignore[union-attr]
    assert message.content[1].data == "AAECAw=="  # type: ignore[union-attr]


def test_invalid_beta_flag_is_retried_without_betas(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(error_reply(400, "ValidationException", "invalid beta flag"), text_reply("fine"))
    message = client.messages.create(
        model="claude-opus-4.6",
        max_tokens=100,
        messages=[ASK],
        extra_headers={"anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14"},
    )
    assert message.content[0].text == "fine"  # type: ignore[union-attr]
    first, second = (r.body for r in fake_nexus.requests)
    assert first["additionalModelRequestFields"] == {"anthropic_beta": ["interleaved-thinking-2025-05-14"]}
    assert "additionalModelRequestFields" not in second


def test_context_overflow_is_reworded_for_claude_code(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    import anthropic

    fake_nexus.enqueue(error_reply(400, "ValidationException", "Input is too long for requested model."))
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model="claude-opus-4.6", max_tokens=100, messages=[ASK])
    assert "prompt is too long:" in str(caught.value) and "Input is too long for requested model." in str(caught.value)
