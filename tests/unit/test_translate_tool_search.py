"""Tool search, mid-conversation tool changes and orphan tool results, on plain values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.nexus.converse_wire import request_json
from domain.errors import InvalidRequestError
from domain.to_converse.request import translate_request
from domain.to_converse.tools import plan_tools, scan_history
from domain.vocab import anthropic as a
from domain.vocab import converse as c

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}}


def tool(name: str, deferred: bool = False) -> a.Tool:
    return a.Tool(name=name, input_schema=SCHEMA, description=f"{name} tool", defer_loading=deferred or None)


TOOLS = (
    tool("Bash"),
    tool("mcp__lab__tool_1", deferred=True),
    tool("ToolSearch"),
    tool("mcp__lab__tool_2", deferred=True),
    tool("DeferredToolPlaceholder", deferred=True),
    tool("Read"),
)


def use(tool_id: str, name: str) -> a.ToolUseBlock:
    return a.ToolUseBlock(type="tool_use", id=tool_id, name=name, input={})


def result(tool_id: str, content: Any = "ok") -> a.ToolResultBlock:
    return a.ToolResultBlock(type="tool_result", tool_use_id=tool_id, content=content)


def ref(name: str) -> a.ToolReferenceBlock:
    return a.ToolReferenceBlock(type="tool_reference", tool_name=name)


def msg(role: str, *content: Any) -> a.Message:
    return a.Message(role=role, content=content[0] if isinstance(content[0], str) else tuple(content))  # type: ignore[arg-type]


def request(*messages: a.Message, tools: tuple[a.Tool, ...] = TOOLS, **kw: Any) -> a.MessagesRequest:
    return a.MessagesRequest(model="claude-opus-4.6", max_tokens=1000, messages=messages, tools=tools, **kw)


def names(*messages: a.Message, **kw: Any) -> list[str]:
    config = translate_request(request(*messages, **kw), beta_allowlist=()).request.tool_config
    assert config is not None
    return [e.tool_spec.name for e in config.tools if isinstance(e, c.ToolSpecEntry)]


SEARCH = (
    msg("user", "find the lab tool"),
    msg("assistant", use("toolu_s", "ToolSearch")),
    msg("user", result("toolu_s", (ref("mcp__lab__tool_2"),))),
)


# --- tool search -------------------------------------------------------------------------


def test_deferred_tools_stay_out_until_something_loads_them() -> None:
    assert names(msg("user", "hi")) == ["Bash", "ToolSearch", "Read"]


def test_a_tool_reference_loads_its_tool_after_the_others_in_the_client_order() -> None:
    assert names(*SEARCH) == ["Bash", "ToolSearch", "Read", "mcp__lab__tool_2"]


def test_a_called_deferred_tool_stays_defined_for_bedrock() -> None:
    history = (*SEARCH, msg("assistant", use("toolu_1", "mcp__lab__tool_1")), msg("user", result("toolu_1")))
    assert names(*history) == ["Bash", "ToolSearch", "Read", "mcp__lab__tool_1", "mcp__lab__tool_2"]


def test_the_tool_prefix_only_grows_at_the_end_when_a_tool_loads() -> None:
    def tools_json(*messages: a.Message) -> str:
        body = request_json(translate_request(request(*messages), beta_allowlist=()).request)
        return json.dumps(body["toolConfig"]["tools"])[:-1]

    before, after = tools_json(msg("user", "find the lab tool")), tools_json(*SEARCH)
    assert after.startswith(before) and after != before


def test_the_withheld_count_is_reported() -> None:
    messages = (msg("user", "hi"),)
    assert plan_tools(TOOLS, None, (), history=messages).withheld == 3
    assert plan_tools(TOOLS, None, (), history=SEARCH).withheld == 2
    # Without the client's history nothing is known to be loaded: everything is sent.
    assert plan_tools(TOOLS, None, ()).withheld == 0


def test_a_tool_reference_reads_as_an_announcement() -> None:
    out = translate_request(request(*SEARCH), beta_allowlist=()).request
    items = out.messages[2].content[0].tool_result.content  # type: ignore[union-attr]
    assert items == (c.TextContent(text="Tool mcp__lab__tool_2 is now available."),)


def test_a_forced_deferred_tool_is_defined() -> None:
    forced = a.ToolChoice(type="tool", name="mcp__lab__tool_1")
    assert "mcp__lab__tool_1" in names(msg("user", "hi"), tool_choice=forced)


# --- tool_addition / tool_removal ----------------------------------------------------------


def addition(target: a.ToolChangeTarget) -> a.ToolAdditionBlock:
    return a.ToolAdditionBlock(type="tool_addition", tool=target)


def removal(target: a.ToolChangeTarget) -> a.ToolRemovalBlock:
    return a.ToolRemovalBlock(type="tool_removal", tool=target)


def by_name(name: str) -> a.ToolNameReference:
    return a.ToolNameReference(type="tool_reference", name=name)


def inline(name: str) -> a.ToolDefinition:
    return a.ToolDefinition(type="tool_definition", definition=tool(name))


def test_an_addition_by_reference_loads_a_deferred_tool() -> None:
    history = (msg("user", "hi"), msg("system", addition(by_name("mcp__lab__tool_1"))))
    assert names(*history) == ["Bash", "ToolSearch", "Read", "mcp__lab__tool_1"]


def test_an_inline_definition_joins_the_tools_after_the_declared_ones() -> None:
    history = (msg("user", "hi"), msg("system", addition(inline("mcp__new__ping"))))
    out = translate_request(request(*history), beta_allowlist=()).request
    assert out.tool_config is not None
    last = out.tool_config.tools[-1]
    assert isinstance(last, c.ToolSpecEntry) and last.tool_spec.name == "mcp__new__ping"
    assert last.tool_spec.input_schema.json == SCHEMA


def test_mcp_references_name_claude_codes_mcp_tools() -> None:
    server = a.McpToolReference(type="mcp_tool_reference", server_name="lab", name="tool_2")
    toolset = a.McpToolsetReference(type="mcp_toolset_reference", server_name="lab")
    assert names(msg("user", "hi"), msg("system", addition(server)))[-1] == "mcp__lab__tool_2"
    assert names(msg("user", "hi"), msg("system", addition(toolset)))[-2:] == ["mcp__lab__tool_1", "mcp__lab__tool_2"]


def test_a_removed_tool_leaves_unless_the_history_called_it() -> None:
    dropped = (msg("user", "hi"), msg("system", removal(by_name("Read"))))
    assert names(*dropped) == ["Bash", "ToolSearch"]
    called = (
        msg("user", "read"),
        msg("assistant", use("toolu_r", "Read")),
        msg("user", result("toolu_r")),
        msg("system", removal(by_name("Read"))),
    )
    assert "Read" in names(*called)


def test_a_called_tool_nobody_defines_any_more_gets_a_stand_in() -> None:
    history = (msg("user", "go"), msg("assistant", use("toolu_g", "mcp__gone__x")), msg("user", result("toolu_g")))
    out = translate_request(request(*history), beta_allowlist=()).request
    assert out.tool_config is not None
    last = out.tool_config.tools[-1]
    assert isinstance(last, c.ToolSpecEntry) and last.tool_spec.name == "mcp__gone__x"
    assert "no longer available" in (last.tool_spec.description or "")


def test_tool_changes_become_notes_in_the_user_turn_never_system_messages() -> None:
    history = (
        msg("user", "hi"),
        msg("system", addition(by_name("mcp__lab__tool_1")), removal(by_name("Read"))),
    )
    out = translate_request(request(*history), beta_allowlist=()).request
    assert [m.role for m in out.messages] == ["user"]
    assert out.messages[0].content == (
        c.TextContent(text="hi"),
        c.TextContent(text="Tool mcp__lab__tool_1 is now available."),
        c.TextContent(text="Tool Read is no longer available; do not call it."),
    )


def test_tool_changes_arrive_from_the_wire_without_a_400() -> None:
    from adapters.http.anthropic_wire import structure_request

    body = {
        "model": "claude-opus-5-5",
        "max_tokens": 10,
        "tools": [
            {"name": "Bash", "input_schema": SCHEMA},
            {"name": "T", "input_schema": SCHEMA, "defer_loading": True},
        ],
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "system",
                "content": [
                    {"type": "tool_addition", "tool": {"type": "tool_reference", "name": "T"}},
                    {"type": "tool_removal", "tool": {"type": "mcp_toolset_reference", "server_name": "x"}},
                    {
                        "type": "tool_addition",
                        "tool": {"type": "tool_definition", "definition": {"name": "U", "input_schema": SCHEMA}},
                        "cache_control": {"type": "ephemeral"},
                    },
                ],
            },
        ],
    }
    parsed = structure_request(body)
    seen = scan_history(parsed.messages, parsed.tools or ())
    assert seen.loaded == {"T", "U"} and [t.name for t in seen.definitions] == ["U"]
    assert names(*parsed.messages, tools=parsed.tools) == ["Bash", "T", "U"]


# --- orphan tool results ----------------------------------------------------------------------


def test_a_tool_result_without_its_tool_use_is_anthropics_400() -> None:
    history = (msg("user", "hi"), msg("assistant", use("toolu_a", "Bash")), msg("user", result("toolu_b")))
    with pytest.raises(InvalidRequestError) as caught:
        translate_request(request(*history), beta_allowlist=())
    assert str(caught.value) == (
        "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_b. "
        "Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
    )


def test_a_tool_result_answering_an_older_turn_is_refused() -> None:
    history = (
        msg("user", "hi"),
        msg("assistant", use("toolu_a", "Bash")),
        msg("user", result("toolu_a")),
        msg("assistant", "done"),
        msg("user", a.TextBlock(type="text", text="again"), result("toolu_a")),
    )
    with pytest.raises(InvalidRequestError, match=r"^messages\.4\.content\.1: unexpected `tool_use_id`"):
        translate_request(request(*history), beta_allowlist=())


def test_split_turns_and_system_messages_between_still_pair_up() -> None:
    history = (
        msg("user", "hi"),
        msg("assistant", "let me look"),
        msg("assistant", use("toolu_a", "Bash")),
        msg("system", addition(by_name("Read"))),
        msg("user", "note"),
        msg("user", result("toolu_a")),
    )
    assert names(*history)[0] == "Bash"
