"""What Claude Code sends: thinking, caching, betas and its extra fields, on plain values."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from adapters.nexus.converse_wire import request_json
from domain.errors import UpstreamRejectedError
from domain.rules.betas import DEFAULT_BETA_ALLOWLIST
from domain.rules.structured_output import without_native_output
from domain.services.cooldown import Cooldown
from domain.services.fallback import call_with_fallback
from domain.to_converse.request import Translation, translate_request
from domain.vocab import anthropic as a
from domain.vocab import converse as c

EPHEMERAL = a.CacheControl()
SCHEMA = {"type": "object", "properties": {}}


def text(value: str, **kw: Any) -> a.TextBlock:
    return a.TextBlock(type="text", text=value, **kw)


def msg(role: str, *content: Any) -> a.Message:
    return a.Message(role=role, content=content[0] if isinstance(content[0], str) else tuple(content))  # type: ignore[arg-type]


def translate(*messages: a.Message, **kw: Any) -> Translation:
    kw.setdefault("max_tokens", 32000)
    req = a.MessagesRequest(model="claude-opus-4.6", messages=messages, **kw)
    return translate_request(req, beta_allowlist=DEFAULT_BETA_ALLOWLIST)


def fields(*messages: a.Message, **kw: Any) -> dict[str, Any]:
    return translate(*messages, **kw).request.additional_model_request_fields or {}


def enabled(budget: int) -> a.ThinkingConfig:
    return a.ThinkingConfig(type="enabled", budget_tokens=budget)


THINK = a.ThinkingBlock(type="thinking", thinking="Let me look.", signature="EqQBCkYIB...sig==")
REDACTED = a.RedactedThinkingBlock(type="redacted_thinking", data=base64.b64encode(b"\x00opaque\xff").decode())
USE = a.ToolUseBlock(type="tool_use", id="toolu_1", name="Read", input={"path": "x"})
RESULT = a.ToolResultBlock(type="tool_result", tool_use_id="toolu_1", content="data")
READ = a.Tool(name="Read", input_schema=SCHEMA)


# --- thinking -----------------------------------------------------------------------


def test_claude_codes_budget_thinking_goes_upstream_unchanged() -> None:
    assert fields(msg("user", "q"), thinking=enabled(31999))["thinking"] == {"type": "enabled", "budget_tokens": 31999}


@pytest.mark.parametrize(
    ("budget", "max_tokens", "expected"),
    [
        (500, 4000, {"type": "enabled", "budget_tokens": 1024}),
        (8000, 4000, {"type": "enabled", "budget_tokens": 3999}),
        (2000, 1000, None),
    ],
)
def test_budget_is_kept_within_claudes_rules(budget: int, max_tokens: int, expected: Any) -> None:
    assert fields(msg("user", "q"), thinking=enabled(budget), max_tokens=max_tokens).get("thinking") == expected


def test_adaptive_thinking_with_effort_and_newer_efforts_lowered() -> None:
    got = fields(
        msg("user", "q"), thinking=a.ThinkingConfig(type="adaptive"), output_config=a.OutputConfig(effort="xhigh")
    )
    assert (got["thinking"], got["output_config"]) == ({"type": "adaptive"}, {"effort": "high"})


def test_disabled_thinking_sends_nothing() -> None:
    assert "thinking" not in fields(msg("user", "q"), thinking=a.ThinkingConfig(type="disabled"))


def test_thinking_drops_sampling_and_forced_tool_choice() -> None:
    out = translate(
        msg("user", "q"),
        thinking=enabled(2000),
        temperature=0.5,
        top_p=0.9,
        top_k=5,
        tools=(READ,),
        tool_choice=a.ToolChoice(type="any"),
    ).request
    assert (out.inference_config.temperature, out.inference_config.top_p) == (None, None)  # type: ignore[union-attr]
    assert "top_k" not in (out.additional_model_request_fields or {})
    assert out.tool_config.tool_choice is None  # type: ignore[union-attr]


def test_thinking_blocks_go_back_byte_exact_before_the_tool_use() -> None:
    history = (msg("user", "q"), msg("assistant", THINK, REDACTED, USE), msg("user", RESULT))
    body = request_json(translate(*history, thinking=enabled(2000), tools=(READ,)).request)
    assert body["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "Let me look.", "signature": "EqQBCkYIB...sig=="}}},
        {"reasoningContent": {"redactedContent": REDACTED.data}},
        {"toolUse": {"toolUseId": "toolu_1", "name": "Read", "input": {"path": "x"}}},
    ]
    assert body["additionalModelRequestFields"]["thinking"]["type"] == "enabled"


def test_a_tool_turn_from_before_thinking_turns_thinking_off() -> None:
    history = (msg("user", "q"), msg("assistant", USE), msg("user", RESULT))
    assert "thinking" not in fields(*history, thinking=enabled(2000), tools=(READ,))


def test_unsigned_thinking_is_never_sent_and_counts_as_missing() -> None:
    unsigned = a.ThinkingBlock(type="thinking", thinking="cut off", signature="")
    history = (msg("user", "q"), msg("assistant", unsigned, USE), msg("user", RESULT))
    out = translate(*history, thinking=enabled(2000), tools=(READ,)).request
    assert [type(b) for b in out.messages[1].content] == [c.ToolUseContent]
    assert "thinking" not in (out.additional_model_request_fields or {})


def test_structured_output_goes_native_with_the_instruction_as_its_fallback() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    out = translate(
        msg("user", "name this session"),
        system="Generate a title",
        output_config=a.OutputConfig(effort="high", format={"type": "json_schema", "schema": schema}),
    ).request
    assert out.output_config is not None and out.output_config.text_format is not None
    assert json.loads(out.output_config.text_format.structure.json_schema.schema) == schema
    assert out.additional_model_request_fields == {"output_config": {"effort": "high"}}
    fallback = without_native_output(out)
    assert fallback is not None and fallback.output_config is None
    last = fallback.system[-1]  # type: ignore[index]
    assert isinstance(last, c.TextContent) and '"title"' in last.text and "JSON" in last.text


# --- prompt caching --------------------------------------------------------------------


def _cache_points(blocks: tuple[Any, ...]) -> list[int]:
    return [i for i, b in enumerate(blocks) if isinstance(b, c.CachePointContent)]


def test_cache_control_becomes_a_cache_point_right_after_the_block() -> None:
    out = translate(
        msg("user", text("context"), text("question", cache_control=a.CacheControl(ttl="1h"))),
        system=(text("billing"), text("You are Claude Code", cache_control=EPHEMERAL)),
        tools=(a.Tool(name="Read", input_schema=SCHEMA, cache_control=EPHEMERAL),),
    ).request
    assert _cache_points(out.system) == [2]  # type: ignore[arg-type]
    assert _cache_points(out.tool_config.tools) == [1]  # type: ignore[union-attr]
    assert out.messages[0].content[-1] == c.CachePointContent(cache_point=c.CachePoint(ttl="1h"))


def test_no_cache_point_inside_a_tool_result_only_after_it() -> None:
    inner = a.ToolResultBlock(
        type="tool_result",
        tool_use_id="toolu_1",
        content=(text("x", cache_control=EPHEMERAL),),
        cache_control=EPHEMERAL,
    )
    out = translate(msg("user", "q"), msg("assistant", USE), msg("user", inner), tools=(READ,)).request
    result, point = out.messages[2].content
    assert isinstance(result, c.ToolResultContent) and result.tool_result.content == (c.TextContent(text="x"),)
    assert isinstance(point, c.CachePointContent)


def test_at_most_four_cache_points_keeping_the_last_four() -> None:
    marked = [text(f"block {i}", cache_control=EPHEMERAL) for i in range(3)]
    out = translate(
        msg("user", *marked), system=(text("s1", cache_control=EPHEMERAL), text("s2", cache_control=EPHEMERAL))
    ).request
    assert _cache_points(out.system) == [2]  # type: ignore[arg-type]
    assert len(_cache_points(out.messages[0].content)) == 3


# --- betas and other fields -------------------------------------------------------------


def test_only_allowlisted_betas_are_forwarded_and_the_rest_are_named() -> None:
    header = (
        "claude-code-20250219",
        "interleaved-thinking-2025-05-14",
        "context-management-2025-06-27",
        "effort-2025-11-24",
    )
    translation = translate(
        msg("user", "q"), betas=header, context_management={"edits": []}, mcp_servers=[{"name": "x"}]
    )
    assert translation.request.additional_model_request_fields == {
        "anthropic_beta": ["interleaved-thinking-2025-05-14", "effort-2025-11-24"]
    }
    assert set(translation.dropped) == {
        "context_management",
        "mcp_servers",
        "anthropic-beta claude-code-20250219",
        "anthropic-beta context-management-2025-06-27",
    }


def test_an_invalid_beta_flag_rejection_is_retried_once_without_betas() -> None:
    request = translate(msg("user", "q"), betas=("interleaved-thinking-2025-05-14",)).request
    sent: list[c.ConverseRequest] = []

    def call(body: c.ConverseRequest) -> str:
        sent.append(body)
        if len(sent) == 1:
            raise UpstreamRejectedError("invalid beta flag")
        return "ok"

    refused = Cooldown()
    assert call_with_fallback(call, request, model_id="m", refused=refused) == "ok"
    assert sent[1].additional_model_request_fields is None
    # Remembered: the next request for that model goes without betas at once.
    assert call_with_fallback(call, request, model_id="m", refused=refused) == "ok"
    assert len(sent) == 3 and sent[2].additional_model_request_fields is None
    assert not refused.on_hold("other-model")


def test_other_rejections_are_not_retried() -> None:
    request = translate(msg("user", "q"), betas=("interleaved-thinking-2025-05-14",)).request
    calls = []

    def call(body: c.ConverseRequest) -> str:
        calls.append(body)
        raise UpstreamRejectedError("The text field is blank")

    with pytest.raises(UpstreamRejectedError):
        call_with_fallback(call, request, model_id="m", refused=Cooldown())
    assert len(calls) == 1


def test_a_blank_cached_block_never_makes_two_cache_points_in_a_row() -> None:
    out = translate(
        msg("user", text("a", cache_control=EPHEMERAL), text("", cache_control=EPHEMERAL)),
        system=(text("S", cache_control=EPHEMERAL), text(" ", cache_control=EPHEMERAL)),
    ).request
    assert _cache_points(out.system) == [1]  # type: ignore[arg-type]
    assert _cache_points(out.messages[0].content) == [1]


def test_the_thinking_rule_looks_at_the_merged_assistant_turn() -> None:
    # Two assistant messages merge into one turn that starts with text: Claude would reject
    # thinking for it, so thinking goes off.
    history = (
        msg("user", "q"),
        msg("assistant", text("Let me check.")),
        msg("assistant", THINK, USE),
        msg("user", RESULT),
    )
    assert "thinking" not in fields(*history, thinking=enabled(2000), tools=(READ,))
