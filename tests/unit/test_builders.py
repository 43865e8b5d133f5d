"""The positional builders of domain/vocab/builders.py make what the attrs constructors make."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.vocab import anthropic as a
from domain.vocab import builders
from domain.vocab import converse as c

TEXT = st.text()
INDEX = st.integers(0, 2**31)


@given(index=INDEX, text=TEXT)
def test_converse_deltas_equal_the_constructed_ones(index: int, text: str) -> None:
    def delta(made: c.Delta) -> c.ContentBlockDeltaEvent:
        return c.ContentBlockDeltaEvent(content_block_index=index, delta=made)

    assert builders.converse_text(index, text) == delta(c.TextChunk(text=text))
    assert builders.converse_tool_input(index, text) == delta(c.ToolUseChunk(tool_use=c.ToolUseInput(input=text)))
    reasoning = c.ReasoningDelta(reasoning_content=c.ReasoningChunk(text=text))
    assert builders.converse_reasoning(index, text) == delta(reasoning)
    assert hash(builders.converse_text(index, text)) == hash(delta(c.TextChunk(text=text)))


@given(index=INDEX, text=TEXT)
def test_anthropic_deltas_equal_the_constructed_ones(index: int, text: str) -> None:
    made = [builders.text_delta(text), builders.input_json_delta(text), builders.thinking_delta(text)]
    assert made == [
        a.TextDelta(type="text_delta", text=text),
        a.InputJsonDelta(type="input_json_delta", partial_json=text),
        a.ThinkingDelta(type="thinking_delta", thinking=text),
    ]
    for delta in made:
        built = a.ContentBlockDeltaEvent(type="content_block_delta", index=index, delta=delta)
        assert builders.block_delta(index, delta) == built


def test_built_objects_stay_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        builders.converse_text(0, "x").content_block_index = 1  # type: ignore[misc]


def test_a_class_whose_fields_changed_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="TextChunk changed"):
        builders.checked_fields(c.TextChunk, "text", "extra")
    with pytest.raises(TypeError, match="ReasoningChunk changed"):
        builders.checked_fields(c.ReasoningChunk, "text")
