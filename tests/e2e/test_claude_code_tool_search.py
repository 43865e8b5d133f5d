"""The real Claude Code CLI with tool search on: a deferred MCP tool found, loaded, then called.

Claude Code 2.1.332 defers MCP tools behind a custom base URL: it declares them with
``defer_loading`` and lets the model find them with ``ToolSearch``, whose result holds
``tool_reference`` blocks. The proxy does what Anthropic's server does with them: the
deferred tools stay out of ``toolConfig`` until a reference loads one. The fake model
searches, calls the tool it found, then answers; a second run with tool search off shows
what deferral saves in upstream bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from entrypoints.launch import claude_code_command
from entrypoints.settings import Settings
from tests.support import mcp_lab_server
from tests.support.claude_code import ClaudeRun, claude_env, require_claude
from tests.support.fake_nexus import (
    FakeNexus,
    JsonReply,
    RecordedRequest,
    Reply,
    StreamReply,
    block_delta,
    block_stop,
    message_stream,
    text_reply,
    text_stream,
    token_usage,
    tool_use_events,
)

pytestmark = pytest.mark.claude_code

TARGET = "mcp__lab__tool_17"
TASK = "Measure sample S-42 with lab instrument 17 and tell me the result."
SEARCH_ID = "tooluse_S5aR2cH7tQ9wX1mB4nK8pLz"
CALL_ID = "tooluse_C4lL1tQ7zW9xR2mN5bV8kJh"
FINAL = "Instrument 17 measured sample S-42."
TITLE = '{"title": "Measure a sample"}'
MAX_SCRIPTED_REQUESTS = 40


def _results(request: RecordedRequest) -> set[str]:
    last = request.body["messages"][-1]
    return {block["toolResult"]["toolUseId"] for block in last["content"] if "toolResult" in block}


def tool_names(request: RecordedRequest) -> list[str]:
    return [t["toolSpec"]["name"] for t in request.body["toolConfig"]["tools"] if "toolSpec" in t]


def turn_of(request: RecordedRequest) -> str:
    """Which scripted turn a request asks for; side requests (titles, ...) carry no tools."""
    if request.operation == "count-tokens":
        return "count"
    if "toolConfig" not in request.body:
        return "side"
    answered = _results(request)
    if CALL_ID in answered:
        return "final"
    if SEARCH_ID in answered or "ToolSearch" not in tool_names(request):
        return "call"
    return "search"


def _tool_call(tool_id: str, name: str, tool_input: dict[str, Any]) -> StreamReply:
    text = json.dumps(tool_input)
    events = tool_use_events(0, tool_id, name, ["", text[: len(text) // 2], text[len(text) // 2 :]])
    return message_stream(events, stop_reason="tool_use", usage=token_usage(100, 20))


@attrs.frozen(kw_only=True)
class ScriptedModel:
    """Search for the tool, call it, answer; chosen from each request so retries match."""

    def __call__(self, request: RecordedRequest) -> Reply:
        turn = turn_of(request)
        if turn == "count":
            return JsonReply({"inputTokens": 9000})
        streamed = request.operation == "converse-stream"
        if turn == "side":
            return text_stream(TITLE) if streamed else text_reply(TITLE)
        if turn == "search":
            return _tool_call(SEARCH_ID, "ToolSearch", {"query": f"select:{TARGET}", "max_results": 5})
        if turn == "call":
            return _tool_call(CALL_ID, TARGET, {"sample": "S-42"})
        blocks = [block_delta(0, {"text": FINAL}), block_stop(0)]
        return message_stream(blocks, usage=token_usage(200, 10))


@pytest.fixture
def run_with_lab(proxy_url: str, tmp_path: Path) -> Callable[..., ClaudeRun]:
    """``claude -p`` with the lab MCP server, in a fresh directory, with the printed variables."""
    binary = require_claude()
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    config = tmp_path / "mcp.json"
    server = {"command": sys.executable, "args": [mcp_lab_server.__file__]}
    config.write_text(json.dumps({"mcpServers": {"lab": server}}))
    printed = claude_code_command(Settings(api_key="unused", port=int(proxy_url.rsplit(":", 1)[1])))

    def run(**extra: str) -> ClaudeRun:
        env = {k: v for k, v in claude_env(printed, home).items() if k != "ENABLE_TOOL_SEARCH"}
        command = [str(binary), "-p", TASK, "--output-format", "json", "--dangerously-skip-permissions"]
        command += ["--mcp-config", str(config), "--strict-mcp-config"]
        done = subprocess.run(
            command,
            env={**env, **extra},
            cwd=work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        return ClaudeRun(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)

    return run


def _main_turns(fake_nexus: FakeNexus) -> dict[str, RecordedRequest]:
    main = [r for r in fake_nexus.requests if turn_of(r) in {"search", "call", "final"}]
    return {turn_of(r): r for r in reversed(main)}  # the first request of each turn


def _size(request: RecordedRequest) -> int:
    return len(json.dumps(request.body, separators=(",", ":")))


def test_a_deferred_mcp_tool_is_found_through_tool_search_then_called(
    run_with_lab: Callable[..., ClaudeRun], fake_nexus: FakeNexus
) -> None:
    fake_nexus.enqueue(*[ScriptedModel()] * MAX_SCRIPTED_REQUESTS)
    run = run_with_lab()
    outcome = run.result()
    assert (outcome["subtype"], outcome["is_error"], outcome["result"]) == ("success", False, FINAL), run.describe()

    turns = _main_turns(fake_nexus)
    assert set(turns) == {"search", "call", "final"}, [turn_of(r) for r in fake_nexus.requests]
    first, second, last = turns["search"], turns["call"], turns["final"]
    assert "ToolSearch" in tool_names(first)
    assert not [name for name in tool_names(first) if name.startswith("mcp__lab__")]
    assert "DeferredToolPlaceholder" not in tool_names(first)
    # Loaded tools join at the end, so everything before them is the same cached prefix.
    assert tool_names(second) == [*tool_names(first), TARGET]
    loaded = next(
        t["toolSpec"] for t in second.body["toolConfig"]["tools"] if t.get("toolSpec", {}).get("name") == TARGET
    )
    assert loaded["inputSchema"]["json"]["required"] == ["sample"]
    found = json.dumps(next(b for b in second.body["messages"][-1]["content"] if "toolResult" in b))
    assert f"Tool {TARGET} is now available." in found
    # The MCP server really ran the call the fake model made.
    assert f"{mcp_lab_server.RESULT_PREFIX}: tool_17 called with" in json.dumps(last.body["messages"][-1])
    assert TARGET in tool_names(last)

    fake_nexus.reset()
    fake_nexus.enqueue(*[ScriptedModel()] * MAX_SCRIPTED_REQUESTS)
    everything = run_with_lab(ENABLE_TOOL_SEARCH="false")
    assert everything.result()["result"] == FINAL, everything.describe()
    full = _main_turns(fake_nexus)["call"]
    lab_tools = [name for name in tool_names(full) if name.startswith("mcp__lab__")]
    assert len(lab_tools) == mcp_lab_server.TOOL_COUNT
    print(
        f"\nfirst upstream request: {_size(first)} bytes with tool search "
        f"({len(tool_names(first))} tools), {_size(full)} bytes without ({len(tool_names(full))} tools)"
    )
    assert _size(first) < _size(full)
