"""The short way to write a Converse request's messages and tools: the common blocks by hand.

A Claude Code request's body is a hundred blocks of five kinds (text, tool use, tool
result, reasoning, cache point) and two dozen tool specs. Written here directly, each is
the dict cattrs' generated code makes, key for key and in the same order, without a
union dispatch per block; any other block, and every value of another type, is written
by the general converter. Each class read here is checked at import to have the fields
this writes, so a field added to one fails loudly rather than going missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.vocab import converse as c
from domain.vocab.builders import checked_fields

General = Callable[[Any], Any]

for _cls, _names in (
    (c.Message, ("role", "content")),
    (c.TextContent, ("text",)),
    (c.CachePointContent, ("cache_point",)),
    (c.CachePoint, ("type", "ttl")),
    (c.ToolUseContent, ("tool_use",)),
    (c.ToolUse, ("tool_use_id", "name", "input")),
    (c.ToolResultContent, ("tool_result",)),
    (c.ToolResult, ("tool_use_id", "content", "status")),
    (c.ReasoningContent, ("reasoning_content",)),
    (c.ReasoningTextContent, ("reasoning_text",)),
    (c.ReasoningText, ("text", "signature")),
    (c.ToolConfig, ("tools", "tool_choice")),
    (c.ToolSpecEntry, ("tool_spec",)),
    (c.ToolSpec, ("name", "input_schema", "description")),
    (c.InputSchema, ("json",)),
):
    checked_fields(_cls, *_names)


def _cache_point(block: c.CachePointContent) -> dict[str, Any]:
    point = block.cache_point
    if point.ttl is None:
        return {"cachePoint": {"type": point.type}}
    return {"cachePoint": {"type": point.type, "ttl": point.ttl}}


class ConverseJson:
    """Writers of messages and tool configs that leave every uncommon part to ``general``."""

    def __init__(self, general: General) -> None:
        self._general = general

    def block(self, block: Any) -> Any:
        """One content block (or tool result item) as JSON."""
        kind = type(block)
        if kind is c.TextContent:
            return {"text": block.text}
        if kind is c.ToolUseContent:
            use = block.tool_use
            data = use.input if type(use.input) is dict else self._general(use.input)
            return {"toolUse": {"toolUseId": use.tool_use_id, "name": use.name, "input": data}}
        if kind is c.ToolResultContent:
            return self._tool_result(block.tool_result)
        if kind is c.CachePointContent:
            return _cache_point(block)
        if kind is c.ReasoningContent and type(block.reasoning_content) is c.ReasoningTextContent:
            reasoning = block.reasoning_content.reasoning_text
            if reasoning.signature is None:
                return {"reasoningContent": {"reasoningText": {"text": reasoning.text}}}
            return {"reasoningContent": {"reasoningText": {"text": reasoning.text, "signature": reasoning.signature}}}
        return self._general(block)

    def _tool_result(self, result: c.ToolResult) -> dict[str, Any]:
        body: dict[str, Any] = {"toolUseId": result.tool_use_id, "content": [self.block(i) for i in result.content]}
        if result.status is not None:
            body["status"] = result.status
        return {"toolResult": body}

    def message(self, message: c.Message) -> dict[str, Any]:
        """A message as JSON."""
        return {"role": message.role, "content": [self.block(block) for block in message.content]}

    def tool_entry(self, entry: Any) -> Any:
        """A tool spec (or a cache point between them) as JSON."""
        if type(entry) is not c.ToolSpecEntry:
            return _cache_point(entry) if type(entry) is c.CachePointContent else self._general(entry)
        spec = entry.tool_spec
        schema = spec.input_schema.json
        body = {"name": spec.name, "inputSchema": {"json": schema if type(schema) is dict else self._general(schema)}}
        if spec.description is not None:
            body["description"] = spec.description
        return {"toolSpec": body}

    def tool_config(self, config: c.ToolConfig) -> dict[str, Any]:
        """A tool config as JSON."""
        body: dict[str, Any] = {"tools": [self.tool_entry(entry) for entry in config.tools]}
        if config.tool_choice is not None:
            body["toolChoice"] = self._general(config.tool_choice)
        return body
