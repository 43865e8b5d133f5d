"""Anthropic ``tools`` and ``tool_choice`` -> Converse ``toolConfig``.

Converse has no ``tool_choice: none`` and no parallel-use switch, and it insists on a
``toolConfig`` whenever the history holds tool blocks. This module decides what goes
into ``toolConfig`` and what must travel in ``additionalModelRequestFields`` instead.

It also does server-side what Anthropic's tool search and mid-conversation tool changes
do, since Converse has neither:

- a tool with ``defer_loading`` stays out of ``toolConfig`` until the history loads it:
  a ``tool_reference`` in a tool result (what ToolSearch returns), a ``tool_use`` of it,
  or a ``tool_addition``; Claude Code's ``DeferredToolPlaceholder`` is deferred and never
  loaded, so it is never sent;
- ``tool_addition`` adds a declared tool or an inline ``tool_definition``;
  ``tool_removal`` takes one away again;
- every tool the history calls stays defined, whatever was removed, because Bedrock
  rejects a ``toolUse`` of a tool ``toolConfig`` does not declare.

For the cache, the order only grows at the end: tools that are not deferred in the
client's order, then loaded deferred tools in the client's order, then inline
definitions, then stand-ins for called tools nobody defines any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from domain.errors import InvalidRequestError
from domain.to_converse.content import cache_point, references_no_tool
from domain.to_converse.names import converse_tool_name, mcp_tool_name, mcp_tool_prefix
from domain.vocab import anthropic as a
from domain.vocab import converse as c
from domain.vocab import request_builders as rb

# Stands in for the tools when the client said ``none`` but history holds tool blocks.
_STUB_TOOL = c.ToolSpecEntry(
    tool_spec=c.ToolSpec(
        name="tools_disabled",
        description="Tools are disabled for this turn. Do not call this tool; answer in text.",
        input_schema=c.InputSchema(json={"type": "object", "properties": {}}),
    )
)
_GONE_DESCRIPTION = "This tool is no longer available. Do not call it."


@attrs.frozen(kw_only=True)
class ToolPlan:
    """The Converse side of the client's tools: the toolConfig and what the response needs back."""

    config: c.ToolConfig | None
    # Converse name -> the name the client used, for responses.
    original_names: dict[str, str]
    # Goes into additionalModelRequestFields (parallel-use switch), or None.
    native_tool_choice: dict[str, Any] | None = None
    # Deferred tools left out of toolConfig because nothing has loaded them yet, for the log.
    withheld: int = 0


@attrs.frozen(kw_only=True)
class ToolHistory:
    """What the conversation so far did with tools, by the client's tool names."""

    used: frozenset[str] = frozenset()
    loaded: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    # Tools defined inline by ``tool_addition``, first definition of each name, in order.
    definitions: tuple[a.Tool, ...] = ()


@attrs.define
class _Scan:
    declared: list[str]
    used: set[str] = attrs.field(factory=set)
    loaded: set[str] = attrs.field(factory=set)
    removed: set[str] = attrs.field(factory=set)
    definitions: dict[str, a.Tool] = attrs.field(factory=dict)

    def names(self, target: a.ToolChangeTarget) -> Iterable[str]:
        match target:
            case a.ToolNameReference(name=name):
                return (name,)
            case a.McpToolReference(server_name=server, name=name):
                return (mcp_tool_name(server, name),)
            case a.McpToolsetReference(server_name=server):
                # Claude Code's MCP tools are client tools named mcp__<server>__<tool>.
                prefix = mcp_tool_prefix(server)
                return [n for n in (*self.declared, *self.definitions) if n.startswith(prefix)]
            case a.ToolDefinition(definition=definition):
                self.definitions.setdefault(definition.name, definition)
                return (definition.name,)

    def change(self, block: a.ToolChangeBlock) -> None:
        for name in self.names(block.tool):
            (self.loaded if isinstance(block, a.ToolAdditionBlock) else self.removed).add(name)
            (self.removed if isinstance(block, a.ToolAdditionBlock) else self.loaded).discard(name)

    def block(self, block: a.ContentBlock) -> None:
        if isinstance(block, a.ToolUseBlock):
            self.used.add(block.name)
        elif isinstance(block, a.ToolAdditionBlock | a.ToolRemovalBlock):
            self.change(block)
        elif isinstance(block, a.ToolResultBlock) and not isinstance(block.content, str):
            for item in block.content:
                if isinstance(item, a.ToolReferenceBlock):
                    self.loaded.add(item.tool_name)
                    self.removed.discard(item.tool_name)


# Blocks that say nothing about tools, told by class: most of a history.
_TOOLLESS = frozenset({a.TextBlock, a.ThinkingBlock, a.RedactedThinkingBlock, a.ImageBlock, a.DocumentBlock})


def scan_history(messages: Sequence[a.Message], tools: Sequence[a.Tool] = ()) -> ToolHistory:
    """What the client's conversation used, loaded, added and removed, in message order."""
    scan = _Scan(declared=[t.name for t in tools])
    for message in messages:
        for block in () if isinstance(message.content, str) else message.content:
            if type(block) is a.ToolUseBlock:
                scan.used.add(block.name)
            elif type(block) is a.ToolResultBlock and references_no_tool(block.content):
                continue
            elif type(block) not in _TOOLLESS:
                scan.block(block)
    return ToolHistory(
        used=frozenset(scan.used),
        loaded=frozenset(scan.loaded),
        removed=frozenset(scan.removed),
        definitions=tuple(scan.definitions.values()),
    )


def _offered(tools: Sequence[a.Tool], history: ToolHistory | None) -> tuple[list[tuple[a.Tool, str]], int]:
    """The tools to define, each with where it came from, and how many deferred were withheld."""
    if history is None:
        return [(t, f"tools.{i}") for i, t in enumerate(tools)], 0

    def wanted(tool: a.Tool) -> bool:
        if tool.name in history.used:
            return True
        return tool.name not in history.removed and (not tool.defer_loading or tool.name in history.loaded)

    indexed = list(enumerate(tools))
    chosen = [(t, f"tools.{i}") for i, t in indexed if not t.defer_loading and wanted(t)]
    chosen += [(t, f"tools.{i}") for i, t in indexed if t.defer_loading and wanted(t)]
    declared = {t.name for t in tools}
    inline = [t for t in history.definitions if t.name not in declared]
    chosen += [
        (t, f"tool_addition {t.name!r}") for t in inline if t.name not in history.removed or t.name in history.used
    ]
    withheld = sum(1 for t in tools if t.defer_loading and not wanted(t))
    return chosen, withheld


def _gone(names: Iterable[str]) -> tuple[c.ToolEntry, ...]:
    schema = c.InputSchema(json={"type": "object", "properties": {}})
    return tuple(
        c.ToolSpecEntry(
            tool_spec=c.ToolSpec(name=converse_tool_name(n), input_schema=schema, description=_GONE_DESCRIPTION)
        )
        for n in sorted(names)
    )


def _spec(tool: a.Tool, where: str) -> tuple[c.ToolEntry, ...]:
    if tool.type not in (None, "custom") or tool.input_schema is None:
        raise InvalidRequestError(
            f"{where}: the server tool {tool.name!r} ({tool.type or 'no input_schema'}) "
            "is not available through AI Nexus; only custom tools with an input_schema work"
        )
    entry = rb.tool_spec_entry(converse_tool_name(tool.name), tool.input_schema, tool.description or None)
    return (entry,) if tool.cache_control is None else (entry, *cache_point(tool.cache_control))


def _choice(choice: a.ToolChoice | None, forced_allowed: bool) -> c.ToolChoice | None:
    if choice is None or choice.type == "auto" or not forced_allowed:
        return None
    if choice.type == "any":
        return c.AnyChoice()
    if choice.name is None:
        raise InvalidRequestError("tool_choice.name: Field required when type is 'tool'")
    return c.SpecificChoice(tool=c.NamedTool(name=converse_tool_name(choice.name)))


def _native_choice(choice: a.ToolChoice | None, converse_choice: c.ToolChoice | None) -> dict[str, Any] | None:
    if choice is None or not choice.disable_parallel_tool_use:
        return None
    # Converse cannot say this; Claude's native field can, but must then be the only
    # tool_choice (a second one in toolConfig is rejected as a conflict).
    if converse_choice is None:
        return {"type": "auto", "disable_parallel_tool_use": True}
    native: dict[str, Any] = {"type": choice.type, "disable_parallel_tool_use": True}
    if choice.name is not None:
        native["name"] = converse_tool_name(choice.name)
    return native


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
    history: Sequence[a.Message] | None = None,
) -> ToolPlan:
    """Build the toolConfig; ``forced_allowed`` is False while thinking is on.

    Args:
        tools: the client's ``tools``.
        choice: the client's ``tool_choice``.
        messages: the converted conversation (tool blocks there need a toolConfig).
        forced_allowed: False while thinking is on (Claude refuses forced tool use then).
        history: the client's own ``messages``. Without them nothing can be known to be
            loaded, so deferral and tool changes are off and every tool is sent.
    """
    declared = tuple(tools or ())
    seen = scan_history(history, declared) if history is not None else None
    if seen is not None and choice is not None and choice.type == "tool" and choice.name:
        seen = attrs.evolve(seen, used=seen.used | {choice.name})  # a forced tool must be defined
    offered, withheld = _offered(declared, seen)
    entries = tuple(entry for tool, where in offered for entry in _spec(tool, where))
    defined = {tool.name for tool, _ in offered}
    if seen is not None:
        entries += _gone(seen.used - defined)
    names = {converse_tool_name(t.name): t.name for t in (*declared, *(seen.definitions if seen else ()))}
    names |= {converse_tool_name(n): n for n in (seen.used - defined if seen else ())}
    if choice is not None and choice.type == "none":
        entries = ()
    if not any(isinstance(e, c.ToolSpecEntry) for e in entries):
        stub = (_STUB_TOOL,) if history_has_tool_blocks(messages) else ()
        return ToolPlan(config=c.ToolConfig(tools=stub) if stub else None, original_names=names, withheld=withheld)
    converse_choice = _choice(choice, forced_allowed)
    native = _native_choice(choice, converse_choice)
    return ToolPlan(
        config=c.ToolConfig(tools=entries, tool_choice=None if native else converse_choice),
        original_names=names,
        native_tool_choice=native,
        withheld=withheld,
    )
