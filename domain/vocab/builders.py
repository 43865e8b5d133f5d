"""Positional constructors for the value objects a stream makes for each of its deltas.

A text delta becomes four value objects on its way through the proxy (two per vocabulary),
and building each through attrs' keyword ``__init__`` costs more than the rest of its
translation. These set the same slots the way that ``__init__`` does (``object.__setattr__``
past the frozen guard), minus the keyword call, and make equal objects. Each class's fields
are checked here at import, so a field added to one of them fails loudly, never silently
left unset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import attrs

from domain.vocab import anthropic as a
from domain.vocab import converse as c

T = TypeVar("T")
_new = object.__new__
_set = object.__setattr__


def checked_fields(cls: type[T], *names: str) -> type[T]:
    """``cls``, once checked to have exactly the fields ``names``, none validated or converted.

    For modules that set an attrs class's slots by hand (here, ``request_builders``, ``converse_fast``):
    a field added to the class then fails at import, not silently at run time.
    """
    fields = attrs.fields(cast("type[attrs.AttrsInstance]", cls))
    if tuple(field.name for field in fields) != names or any(f.validator or f.converter for f in fields):
        raise TypeError(f"{names} are set by hand, but {cls.__qualname__} changed: update its builder")
    return cls


_TextChunk = checked_fields(c.TextChunk, "text")
_ToolUseChunk = checked_fields(c.ToolUseChunk, "tool_use")
_ToolUseInput = checked_fields(c.ToolUseInput, "input")
_ReasoningChunk = checked_fields(c.ReasoningChunk, "text", "signature", "redacted_content")
_ReasoningDelta = checked_fields(c.ReasoningDelta, "reasoning_content")
_ConverseDelta = checked_fields(c.ContentBlockDeltaEvent, "content_block_index", "delta")
_TextDelta = checked_fields(a.TextDelta, "type", "text")
_InputJsonDelta = checked_fields(a.InputJsonDelta, "type", "partial_json")
_ThinkingDelta = checked_fields(a.ThinkingDelta, "type", "thinking")
_AnthropicDelta = checked_fields(a.ContentBlockDeltaEvent, "type", "index", "delta")


def converse_text(index: int, text: str) -> c.ContentBlockDeltaEvent:
    """``ContentBlockDeltaEvent(content_block_index=index, delta=TextChunk(text=text))``."""
    chunk = _new(_TextChunk)
    _set(chunk, "text", text)
    return converse_delta(index, chunk)


def converse_tool_input(index: int, partial: str) -> c.ContentBlockDeltaEvent:
    """The Converse delta of ``partial``, more of the input of the tool call at ``index``."""
    piece = _new(_ToolUseInput)
    _set(piece, "input", partial)
    chunk = _new(_ToolUseChunk)
    _set(chunk, "tool_use", piece)
    return converse_delta(index, chunk)


def converse_reasoning(index: int, text: str) -> c.ContentBlockDeltaEvent:
    """The Converse delta of ``text``, more reasoning text (no signature) for the block at ``index``."""
    chunk = _new(_ReasoningChunk)
    _set(chunk, "text", text)
    _set(chunk, "signature", None)
    _set(chunk, "redacted_content", None)
    reasoning = _new(_ReasoningDelta)
    _set(reasoning, "reasoning_content", chunk)
    return converse_delta(index, reasoning)


def converse_piece(index: int, kind: c.RunKind, text: str) -> c.ContentBlockDeltaEvent:
    """The Converse delta that one piece of a ``DeltaRun`` of ``kind`` stands for."""
    return _CONVERSE_PIECES[kind](index, text)


def converse_deltas(run: c.DeltaRun) -> list[c.ContentBlockDeltaEvent]:
    """The Converse deltas ``run`` stands for, one per piece."""
    make, index = _CONVERSE_PIECES[run.kind], run.content_block_index
    return [make(index, piece) for piece in run.pieces]


def converse_delta(index: int, delta: c.Delta) -> c.ContentBlockDeltaEvent:
    """``ContentBlockDeltaEvent(content_block_index=index, delta=delta)``."""
    event = _new(_ConverseDelta)
    _set(event, "content_block_index", index)
    _set(event, "delta", delta)
    return event


def _string_delta(cls: type[a.BlockDelta], tag: str, field: str) -> Callable[[str], a.BlockDelta]:
    """A builder of ``cls(type=tag, <field>=text)``, one of the deltas that carry a string."""

    def make(text: str) -> a.BlockDelta:
        delta = _new(cls)
        _set(delta, "type", tag)
        _set(delta, field, text)
        return delta

    return make


text_delta = _string_delta(_TextDelta, "text_delta", "text")
input_json_delta = _string_delta(_InputJsonDelta, "input_json_delta", "partial_json")
thinking_delta = _string_delta(_ThinkingDelta, "thinking_delta", "thinking")


def block_delta(index: int, delta: a.BlockDelta) -> a.ContentBlockDeltaEvent:
    """``ContentBlockDeltaEvent(type="content_block_delta", index=index, delta=delta)``."""
    event = _new(_AnthropicDelta)
    _set(event, "type", "content_block_delta")
    _set(event, "index", index)
    _set(event, "delta", delta)
    return event


_CONVERSE_PIECES = {"text": converse_text, "tool_input": converse_tool_input, "reasoning": converse_reasoning}
_ANTHROPIC_PIECES = {"text_delta": text_delta, "input_json_delta": input_json_delta, "thinking_delta": thinking_delta}


def block_deltas(run: a.DeltaRun) -> list[a.ContentBlockDeltaEvent]:
    """The ``content_block_delta`` events ``run`` stands for, one per piece."""
    make, index = _ANTHROPIC_PIECES[run.kind], run.index
    return [block_delta(index, make(piece)) for piece in run.pieces]
