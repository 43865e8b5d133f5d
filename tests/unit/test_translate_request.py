"""Anthropic requests -> Converse requests, on plain value objects (text and turns)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.to_converse.content import EMPTY_PLACEHOLDER
from domain.to_converse.request import translate_request
from domain.vocab import anthropic as a
from domain.vocab import converse as c


def text(value: str, **kw: Any) -> a.TextBlock:
    return a.TextBlock(type="text", text=value, **kw)


def msg(role: str, *content: a.ContentBlock | str) -> a.Message:
    if len(content) == 1 and isinstance(content[0], str):
        return a.Message(role=role, content=content[0])  # type: ignore[arg-type]
    return a.Message(role=role, content=tuple(content))  # type: ignore[arg-type]


def request(*messages: a.Message, **kw: Any) -> a.MessagesRequest:
    kw.setdefault("max_tokens", 1000)
    return a.MessagesRequest(model="claude-opus-4.6", messages=messages, **kw)


def convert(req: a.MessagesRequest) -> c.ConverseRequest:
    return translate_request(req, beta_allowlist=()).request


def texts(message: c.Message) -> list[str]:
    return [b.text for b in message.content if isinstance(b, c.TextContent)]


def test_plain_text_turn_and_max_tokens_always_sent() -> None:
    out = convert(request(msg("user", "Hello")))
    assert out.messages == (c.Message(role="user", content=(c.TextContent(text="Hello"),)),)
    assert out.inference_config == c.InferenceConfig(max_tokens=1000)


def test_system_string_and_blocks_keep_order() -> None:
    assert convert(request(msg("user", "q"), system="Be brief")).system == (c.TextContent(text="Be brief"),)
    blocks = (text("first"), text("  "), text("second"))
    assert convert(request(msg("user", "q"), system=blocks)).system == (
        c.TextContent(text="first"),
        c.TextContent(text="second"),
    )


def test_sampling_parameters_map_and_clamp() -> None:
    out = convert(request(msg("user", "q"), temperature=1.5, stop_sequences=("END",), top_k=40))
    assert out.inference_config == c.InferenceConfig(max_tokens=1000, temperature=1.0, stop_sequences=("END",))
    assert out.additional_model_request_fields == {"top_k": 40}
    assert out.additional_model_response_field_paths == ("/delta/stop_sequence",)


def test_top_p_alone_is_kept_but_temperature_wins_when_both_are_set() -> None:
    assert convert(request(msg("user", "q"), top_p=0.9)).inference_config.top_p == 0.9  # type: ignore[union-attr]
    both = convert(request(msg("user", "q"), top_p=0.9, temperature=0.2)).inference_config
    assert (both.temperature, both.top_p) == (0.2, None)  # type: ignore[union-attr]


def test_consecutive_same_role_turns_merge() -> None:
    out = convert(request(msg("user", "a"), msg("user", "b"), msg("assistant", "c"), msg("assistant", "d")))
    assert [(m.role, texts(m)) for m in out.messages] == [("user", ["a", "b"]), ("assistant", ["c", "d"])]


def test_system_role_message_is_folded_into_the_adjacent_user_turn() -> None:
    out = convert(request(msg("user", "question"), msg("system", "Available agents: x")))
    assert [(m.role, texts(m)) for m in out.messages] == [("user", ["question", "Available agents: x"])]
    middle = convert(request(msg("user", "q"), msg("assistant", "a"), msg("system", "note"), msg("user", "q2")))
    assert [(m.role, texts(m)) for m in middle.messages] == [
        ("user", ["q"]),
        ("assistant", ["a"]),
        ("user", ["note", "q2"]),
    ]


def test_blank_text_is_dropped_and_an_emptied_turn_gets_a_placeholder() -> None:
    out = convert(request(msg("user", text("hi"), text("   ")), msg("assistant", ""), msg("user", "next")))
    assert [texts(m) for m in out.messages] == [["hi"], [EMPTY_PLACEHOLDER], ["next"]]


def test_conversation_starts_with_a_user_turn_and_prefill_loses_trailing_space() -> None:
    out = convert(request(msg("assistant", "I think "), msg("user", "go on"), msg("assistant", "Sure ")))
    assert out.messages[0].role == "user"
    assert texts(out.messages[-1]) == ["Sure"]


def test_metadata_context_management_and_service_tier_are_dropped_by_name() -> None:
    translation = translate_request(
        request(msg("user", "q"), metadata={"user_id": "{}"}, context_management={"edits": []}, service_tier="auto"),
        beta_allowlist=(),
    )
    assert set(translation.dropped) == {"metadata", "context_management", "service_tier"}
    assert translation.request.additional_model_request_fields is None


@pytest.mark.parametrize("max_tokens", [1, 32000])
def test_max_tokens_is_carried_exactly(max_tokens: int) -> None:
    out = convert(request(msg("user", "q"), max_tokens=max_tokens))
    assert out.inference_config.max_tokens == max_tokens  # type: ignore[union-attr]
