"""The positional builders of domain/vocab/request_builders.py make what the attrs constructors make."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.vocab import anthropic as a
from domain.vocab import converse as c
from domain.vocab import request_builders as rb

TEXT = st.text(max_size=8)
MAYBE = st.none() | TEXT
CONTROL = st.none() | st.builds(a.CacheControl, ttl=st.sampled_from([None, "5m", "1h"]))
FLAG = st.sampled_from([None, True, False])
INPUT: st.SearchStrategy[dict[str, Any]] = st.dictionaries(TEXT, TEXT, max_size=2)


@given(text=TEXT, other=TEXT, name=TEXT, data=INPUT, control=CONTROL, flag=FLAG)
def test_anthropic_builders_equal_the_constructed_objects(
    text: str, other: str, name: str, data: dict[str, Any], control: a.CacheControl | None, flag: bool | None
) -> None:
    assert rb.cache_control(control.ttl if control else None) == a.CacheControl(ttl=control.ttl if control else None)
    assert rb.text_block(text, control) == a.TextBlock(type="text", text=text, cache_control=control)
    assert rb.tool_use_block(text, name, data, control) == a.ToolUseBlock(
        type="tool_use", id=text, name=name, input=data, cache_control=control
    )
    assert rb.thinking_block(text, other, control) == a.ThinkingBlock(
        type="thinking", thinking=text, signature=other, cache_control=control
    )
    assert rb.tool_result_block(text, other, flag, control) == a.ToolResultBlock(
        type="tool_result", tool_use_id=text, content=other, is_error=flag, cache_control=control
    )
    assert rb.message("user", text) == a.Message(role="user", content=text)
    assert rb.tool(name, data, text, control, flag) == a.Tool(
        name=name, input_schema=data, description=text, cache_control=control, defer_loading=flag
    )


@given(text=TEXT, other=MAYBE, name=TEXT, data=INPUT, status=st.sampled_from([None, "error", "success"]))
def test_converse_builders_equal_the_constructed_objects(
    text: str, other: str | None, name: str, data: dict[str, Any], status: Any
) -> None:
    assert rb.text_content(text) == c.TextContent(text=text)
    assert rb.cache_point_content(other) == c.CachePointContent(cache_point=c.CachePoint(ttl=other))
    assert rb.tool_use_content(text, name, data) == c.ToolUseContent(
        tool_use=c.ToolUse(tool_use_id=text, name=name, input=data)
    )
    items = (c.TextContent(text=name),)
    assert rb.tool_result_content(text, items, status) == c.ToolResultContent(
        tool_result=c.ToolResult(tool_use_id=text, content=items, status=status)
    )
    assert rb.reasoning_content(text, other) == c.ReasoningContent(
        reasoning_content=c.ReasoningTextContent(reasoning_text=c.ReasoningText(text=text, signature=other))
    )
    assert rb.converse_message("assistant", items) == c.Message(role="assistant", content=items)
    assert rb.tool_spec_entry(name, data, other) == c.ToolSpecEntry(
        tool_spec=c.ToolSpec(name=name, input_schema=c.InputSchema(json=data), description=other)
    )


def test_built_objects_stay_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rb.text_block("x", None).text = "y"  # type: ignore[misc]
