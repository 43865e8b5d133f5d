"""Anthropic ``tools`` and ``tool_choice`` -> Converse ``toolConfig``.

Converse has no ``tool_choice: none`` and no parallel-use switch, and it insists on a
``toolConfig`` whenever the history holds tool blocks. This module decides what goes
into ``toolConfig`` and what must travel in ``additionalModelRequestFields`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from domain.errors import InvalidRequestError
from domain.to_converse.content import cache_point
from domain.to_converse.names import converse_tool_name
from domain.vocab import anthropic as a
from domain.vocab import converse as c

# Stands in for the tools when the client said ``none`` but history holds tool blocks.
_STUB_TOOL = c.ToolSpecEntry(
    tool_spec=c.ToolSpec(
        name="tools_disabled",
        description="Tools are disabled for this turn. Do not call this tool; answer in text.",
        input_schema=c.InputSchema(json={"type": "object", "properties": {}}),
    )
)


@attrs.frozen(kw_only=True)
class ToolPlan:
    """The Converse side of the client's tools: the toolConfig and what the response needs back."""

    config: c.ToolConfig | None
    # Converse name -> the name the client used, for responses.
    original_names: dict[str, str]
    # Goes into additionalModelRequestFields (parallel-use switch), or None.
    native_tool_choice: dict[str, Any] | None = None


def _spec(tool: a.Tool, index: int) -> tuple[c.ToolEntry, ...]:
    if tool.type not in (None, "custom") or tool.input_schema is None:
        raise InvalidRequestError(
            f"tools.{index}: the server tool {tool.name!r} ({tool.type or 'no input_schema'}) "
            "is not available through AI Nexus; only custom tools with an input_schema work"
        )
    spec = c.ToolSpec(
        name=converse_tool_name(tool.name),
        input_schema=c.InputSchema(json=tool.input_schema),
        description=tool.description or None,
    )
    return (c.ToolSpecEntry(tool_spec=spec), *cache_point(tool.cache_control))


def _choice(choice: a.ToolChoice | None, forced_allowed: bool) -> c.ToolChoice | None:
    if choice is None or choice.type == "auto" or not forced_allowed:
        return None
    if choice.type == "any":
        return c.AnyChoice()
    if choice.name is None:
        raise InvalidRequestError("tool_choice.name: Field required when type is 'tool'")
    return c.SpecificChoice(tool=c.NamedTool(name=converse_tool_name(choice.name)))


def history_has_tool_blocks(messages: Sequence[c.Message]) -> bool:
    """True if any turn holds a tool use or result, which Converse accepts only with a toolConfig."""
    return any(
        isinstance(block, c.ToolUseContent | c.ToolResultContent) for message in messages for block in message.content
    )


def plan_tools(
    tools: Sequence[a.Tool] | None,
    choice: a.ToolChoice | None,
    messages: Sequence[c.Message],
    *,
    forced_allowed: bool = True,
) -> ToolPlan:
    """Build the toolConfig; ``forced_allowed`` is False while thinking is on."""
    entries = tuple(entry for i, tool in enumerate(tools or ()) for entry in _spec(tool, i))
    names = {converse_tool_name(t.name): t.name for t in tools or ()}
    if choice is not None and choice.type == "none":
        entries = ()
    if not any(isinstance(e, c.ToolSpecEntry) for e in entries):
        stub = (_STUB_TOOL,) if history_has_tool_blocks(messages) else ()
        return ToolPlan(config=c.ToolConfig(tools=stub) if stub else None, original_names=names)
    converse_choice = _choice(choice, forced_allowed)
    native = None
    if choice is not None and choice.disable_parallel_tool_use:
        # Converse cannot say this; Claude's native field can, but must then be the only
        # tool_choice (a second one in toolConfig is rejected as a conflict).
        native = {"type": "auto", "disable_parallel_tool_use": True}
        if converse_choice is not None:
            native = {"type": choice.type, "disable_parallel_tool_use": True}
            if choice.name is not None:
                native["name"] = converse_tool_name(choice.name)
        converse_choice = None
    return ToolPlan(
        config=c.ToolConfig(tools=entries, tool_choice=converse_choice),
        original_names=names,
        native_tool_choice=native,
    )
