"""Positional constructors for the value objects every request makes per content block.

A Claude Code request holds a hundred blocks and two dozen tools, each read into an
Anthropic object and translated into two or three Converse ones, on every turn. These set
the slots the way attrs' keyword ``__init__`` does (``object.__setattr__`` past the frozen
guard), minus the keyword call, and make equal objects. As in ``builders.py``, each
class's fields are checked at import, so a field added to one fails loudly here.
"""

from __future__ import annotations

from typing import Any, Literal

from domain.vocab import anthropic as a
from domain.vocab import converse as c
from domain.vocab.builders import checked_fields

_new = object.__new__
_set = object.__setattr__

_CacheControl = checked_fields(a.CacheControl, "type", "ttl")
_TextBlock = checked_fields(a.TextBlock, "type", "text", "cache_control", "citations")
_ToolUseBlock = checked_fields(a.ToolUseBlock, "type", "id", "name", "input", "cache_control")
_ThinkingBlock = checked_fields(a.ThinkingBlock, "type", "thinking", "signature", "cache_control")
_ToolResultBlock = checked_fields(a.ToolResultBlock, "type", "tool_use_id", "content", "is_error", "cache_control")
_Message = checked_fields(a.Message, "role", "content")
_Tool = checked_fields(a.Tool, "name", "input_schema", "description", "type", "cache_control", "defer_loading")

_TextContent = checked_fields(c.TextContent, "text")
_CachePoint = checked_fields(c.CachePoint, "type", "ttl")
_CachePointContent = checked_fields(c.CachePointContent, "cache_point")
_ToolUse = checked_fields(c.ToolUse, "tool_use_id", "name", "input")
_ToolUseContent = checked_fields(c.ToolUseContent, "tool_use")
_ToolResult = checked_fields(c.ToolResult, "tool_use_id", "content", "status")
_ToolResultContent = checked_fields(c.ToolResultContent, "tool_result")
_ReasoningText = checked_fields(c.ReasoningText, "text", "signature")
_ReasoningTextContent = checked_fields(c.ReasoningTextContent, "reasoning_text")
_ReasoningContent = checked_fields(c.ReasoningContent, "reasoning_content")
_ConverseMessage = checked_fields(c.Message, "role", "content")
_InputSchema = checked_fields(c.InputSchema, "json")
_ToolSpec = checked_fields(c.ToolSpec, "name", "input_schema", "description")
_ToolSpecEntry = checked_fields(c.ToolSpecEntry, "tool_spec")


# --- Anthropic ---------------------------------------------------------------------------


def cache_control(ttl: str | None) -> a.CacheControl:
    """``CacheControl(type="ephemeral", ttl=ttl)``."""
    made = _new(_CacheControl)
    _set(made, "type", "ephemeral")
    _set(made, "ttl", ttl)
    return made


def text_block(text: str, control: a.CacheControl | None) -> a.TextBlock:
    """``TextBlock(type="text", text=text, cache_control=control)``, no citations."""
    made = _new(_TextBlock)
    _set(made, "type", "text")
    _set(made, "text", text)
    _set(made, "cache_control", control)
    _set(made, "citations", None)
    return made


def tool_use_block(
    tool_id: str, name: str, tool_input: dict[str, Any], control: a.CacheControl | None
) -> a.ToolUseBlock:
    """``ToolUseBlock(type="tool_use", id=tool_id, name=name, input=tool_input, cache_control=control)``."""
    made = _new(_ToolUseBlock)
    _set(made, "type", "tool_use")
    _set(made, "id", tool_id)
    _set(made, "name", name)
    _set(made, "input", tool_input)
    _set(made, "cache_control", control)
    return made


def thinking_block(thinking: str, signature: str, control: a.CacheControl | None) -> a.ThinkingBlock:
    """``ThinkingBlock(type="thinking", thinking=thinking, signature=signature, cache_control=control)``."""
    made = _new(_ThinkingBlock)
    _set(made, "type", "thinking")
    _set(made, "thinking", thinking)
    _set(made, "signature", signature)
    _set(made, "cache_control", control)
    return made


def tool_result_block(
    tool_use_id: str,
    content: str | tuple[a.ToolResultItem, ...],
    is_error: bool | None,
    control: a.CacheControl | None,
) -> a.ToolResultBlock:
    """``ToolResultBlock(type="tool_result", ...)`` with these fields."""
    made = _new(_ToolResultBlock)
    _set(made, "type", "tool_result")
    _set(made, "tool_use_id", tool_use_id)
    _set(made, "content", content)
    _set(made, "is_error", is_error)
    _set(made, "cache_control", control)
    return made


def message(role: Literal["user", "assistant", "system"], content: str | tuple[a.ContentBlock, ...]) -> a.Message:
    """``Message(role=role, content=content)``."""
    made = _new(_Message)
    _set(made, "role", role)
    _set(made, "content", content)
    return made


def tool(
    name: str,
    schema: dict[str, Any],
    description: str | None,
    control: a.CacheControl | None,
    defer_loading: bool | None,
) -> a.Tool:
    """``Tool(name=..., input_schema=schema, description=..., cache_control=control, defer_loading=...)``."""
    made = _new(_Tool)
    _set(made, "name", name)
    _set(made, "input_schema", schema)
    _set(made, "description", description)
    _set(made, "type", None)
    _set(made, "cache_control", control)
    _set(made, "defer_loading", defer_loading)
    return made


# --- Converse ----------------------------------------------------------------------------


def converse_message(role: Literal["user", "assistant"], content: tuple[c.ContentBlock, ...]) -> c.Message:
    """``converse.Message(role=role, content=content)``."""
    made = _new(_ConverseMessage)
    _set(made, "role", role)
    _set(made, "content", content)
    return made


def text_content(text: str) -> c.TextContent:
    """``TextContent(text=text)``."""
    made = _new(_TextContent)
    _set(made, "text", text)
    return made


def cache_point_content(ttl: str | None) -> c.CachePointContent:
    """``CachePointContent(cache_point=CachePoint(ttl=ttl))``."""
    point = _new(_CachePoint)
    _set(point, "type", "default")
    _set(point, "ttl", ttl)
    made = _new(_CachePointContent)
    _set(made, "cache_point", point)
    return made


def tool_use_content(tool_use_id: str, name: str, tool_input: Any) -> c.ToolUseContent:
    """``ToolUseContent(tool_use=ToolUse(tool_use_id=..., name=..., input=...))``."""
    use = _new(_ToolUse)
    _set(use, "tool_use_id", tool_use_id)
    _set(use, "name", name)
    _set(use, "input", tool_input)
    made = _new(_ToolUseContent)
    _set(made, "tool_use", use)
    return made


def tool_result_content(
    tool_use_id: str, content: tuple[c.ToolResultItem, ...], status: Literal["success", "error"] | None
) -> c.ToolResultContent:
    """``ToolResultContent(tool_result=ToolResult(tool_use_id=..., content=..., status=...))``."""
    result = _new(_ToolResult)
    _set(result, "tool_use_id", tool_use_id)
    _set(result, "content", content)
    _set(result, "status", status)
    made = _new(_ToolResultContent)
    _set(made, "tool_result", result)
    return made


def reasoning_content(text: str, signature: str | None) -> c.ReasoningContent:
    """``ReasoningContent(reasoning_content=ReasoningTextContent(reasoning_text=ReasoningText(...)))``."""
    reasoning = _new(_ReasoningText)
    _set(reasoning, "text", text)
    _set(reasoning, "signature", signature)
    inner = _new(_ReasoningTextContent)
    _set(inner, "reasoning_text", reasoning)
    made = _new(_ReasoningContent)
    _set(made, "reasoning_content", inner)
    return made


def tool_spec_entry(name: str, schema: dict[str, Any], description: str | None) -> c.ToolSpecEntry:
    """``ToolSpecEntry(tool_spec=ToolSpec(name=name, input_schema=InputSchema(json=schema), description=...))``."""
    wrapped = _new(_InputSchema)
    _set(wrapped, "json", schema)
    spec = _new(_ToolSpec)
    _set(spec, "name", name)
    _set(spec, "input_schema", wrapped)
    _set(spec, "description", description)
    made = _new(_ToolSpecEntry)
    _set(made, "tool_spec", spec)
    return made
