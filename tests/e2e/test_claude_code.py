"""The real Claude Code CLI through the real proxy to the fake AI Nexus: a multi-turn tool task.

The fake plays the model: it streams signed thinking and a ``Write`` call, then a ``Read`` of
the file, then the answer, in Bedrock's event order. Claude Code runs the tools for real, so
the file on disk and the history it sends back show the proxy's round trip end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from entrypoints.launch import claude_code_command
from entrypoints.settings import Settings
from tests.support.claude_code import ClaudeRun, claude_env, require_claude, run_claude
from tests.support.fake_nexus import (
    Event,
    FakeNexus,
    JsonReply,
    RecordedRequest,
    Reply,
    StreamReply,
    block_delta,
    block_stop,
    error_reply,
    message_stream,
    text_reply,
    text_stream,
    token_usage,
    tool_use_events,
)

TASK = "Create notes.txt in the current directory with two lines, then read it back and tell me what it says."
CONTENT = "alpha from the fake model\nbeta on line two\n"
FINAL = "notes.txt holds two lines: 'alpha from the fake model' and 'beta on line two'."
TITLE = '{"title": "Create and read back notes.txt"}'
WRITE_ID = "tooluse_W7mQ2xR9bKp4LzT1vN8cYa"
READ_ID = "tooluse_R3dK8pQ1xZ6mWn2bV5tLqE"
# Bedrock signatures are opaque base64; these must come back byte for byte.
SIGNATURES = {
    WRITE_ID: "EqQBCkgIBRABGAIiQHd4k2mN0Zp+vYlq8sT3rWcE1fJb6uXoKa9Ri5Dg7LhM2nQ4yS0tV/xB8zC1eF3gH5jK7lP9w==",
    READ_ID: "ErUBCkYIBhgCIkDm3Q9pL+Wz5xN1vK8rT2yB6cH0jF4sD7gA9uE3iO5qR1wM8nZ2bX6vC4lJ0kY7tS9fP3hG5dU==",
}
THOUGHTS = {
    WRITE_ID: ("The user wants a new file", " with two lines; I'll write", " it with the Write tool."),
    READ_ID: ("The file is written.", " Now read it back to confirm."),
}
MAX_SCRIPTED_REQUESTS = 40


def _reasoning(index: int, tool_id: str) -> list[Event]:
    """Signed thinking as Bedrock streams it: no contentBlockStart, the signature last."""
    deltas = [block_delta(index, {"reasoningContent": {"text": part}}) for part in THOUGHTS[tool_id]]
    return [*deltas, block_delta(index, {"reasoningContent": {"signature": SIGNATURES[tool_id]}}), block_stop(index)]


def _tool_use(index: int, tool_id: str, name: str, tool_input: dict[str, str]) -> list[Event]:
    text = json.dumps(tool_input)
    cut = len(text) // 3
    return tool_use_events(index, tool_id, name, ["", text[:cut], text[cut : 2 * cut], text[2 * cut :]])


def _tool_results(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    results = (block["toolResult"] for block in message["content"] if "toolResult" in block)
    return {result["toolUseId"]: result for result in results}


def turn_of(request: RecordedRequest) -> str:
    """Which scripted turn a request asks for; side requests (titles, ...) carry no tools."""
    if request.operation == "count-tokens":
        return "count"
    if "toolConfig" not in request.body:
        return "side"
    answered = _tool_results(request.body["messages"][-1])
    return "final" if READ_ID in answered else "read" if WRITE_ID in answered else "write"


@attrs.frozen(kw_only=True)
class ScriptedModel:
    """The fake model's replies, chosen from each request's content, so retries get the same."""

    note: Path

    def __call__(self, request: RecordedRequest) -> Reply:
        turn = turn_of(request)
        if turn == "count":
            return JsonReply({"inputTokens": 24000})
        streamed = request.operation == "converse-stream"
        if turn == "side":
            return text_stream(TITLE) if streamed else text_reply(TITLE)
        if not streamed:
            return text_reply("unexpected: Claude Code fell back to a non-streamed request")
        return self._turn(turn)

    def _turn(self, turn: str) -> StreamReply:
        if turn == "write":
            write = {"file_path": str(self.note), "content": CONTENT}
            blocks = [*_reasoning(0, WRITE_ID), block_delta(1, {"text": "I'll create the file."}), block_stop(1)]
            blocks += _tool_use(2, WRITE_ID, "Write", write)
            usage = token_usage(12, 95, cacheWriteInputTokens=23800)
            return message_stream(blocks, stop_reason="tool_use", usage=usage)
        if turn == "read":
            blocks = [*_reasoning(0, READ_ID), *_tool_use(1, READ_ID, "Read", {"file_path": str(self.note)})]
            usage = token_usage(180, 60, cacheReadInputTokens=23800)
            return message_stream(blocks, stop_reason="tool_use", usage=usage)
        halves = [FINAL[: len(FINAL) // 2], FINAL[len(FINAL) // 2 :]]
        blocks = [*(block_delta(0, {"text": half}) for half in halves), block_stop(0)]
        return message_stream(blocks, usage=token_usage(260, 40, cacheReadInputTokens=23980))


pytestmark = pytest.mark.claude_code


@pytest.fixture
def claude() -> Path:
    return require_claude()


@pytest.fixture
def claude_in(claude: Path, proxy_url: str, tmp_path: Path) -> Callable[..., ClaudeRun]:
    """Run the task in a fresh working directory and HOME, with the variables that
    ``start --claude-code`` prints for this proxy (exactly what it tells the user to run)."""
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    printed = claude_code_command(Settings(api_key="unused", port=int(proxy_url.rsplit(":", 1)[1])))

    def run(**env: str) -> ClaudeRun:
        return run_claude(claude, TASK, env={**claude_env(printed, home), **env}, cwd=work)

    return run


@pytest.fixture
def note(tmp_path: Path) -> Path:
    """The file the task asks Claude Code to write, in its working directory."""
    return tmp_path / "work" / "notes.txt"


def _assistant_turn_with(body: dict[str, Any], tool_id: str) -> list[dict[str, Any]]:
    for message in body["messages"]:
        content: list[dict[str, Any]] = message["content"]
        if message["role"] == "assistant" and any(b.get("toolUse", {}).get("toolUseId") == tool_id for b in content):
            return content
    raise AssertionError(f"no assistant turn calls {tool_id}")


def _signed_thinking(tool_id: str) -> dict[str, Any]:
    return {
        "reasoningContent": {"reasoningText": {"text": "".join(THOUGHTS[tool_id]), "signature": SIGNATURES[tool_id]}}
    }


def assert_history(body: dict[str, Any], answered: tuple[str, ...]) -> None:
    """Every earlier tool turn comes back led by its signed thinking, and its result follows."""
    for tool_id in answered:
        assert _assistant_turn_with(body, tool_id)[0] == _signed_thinking(tool_id)
    results = _tool_results(body["messages"][-1])
    assert set(results) == {answered[-1]}
    assert results[answered[-1]].get("status") != "error", results
    assert "thinking" in body["additionalModelRequestFields"]
    assert any("cachePoint" in block for block in body["system"])
    assert any("cachePoint" in block for block in body["messages"][-1]["content"])


def assert_main_loop(requests: list[RecordedRequest], note: Path, *, budget: bool) -> None:
    """All three turns were streamed, and each later one carried the history byte for byte."""
    main = [r for r in requests if turn_of(r) in {"write", "read", "final"}]
    assert [r.operation for r in main] == ["converse-stream"] * len(main)
    turns = [turn_of(r) for r in main]
    assert sorted(set(turns), key=turns.index) == ["write", "read", "final"]
    if budget:
        assert main[0].body["additionalModelRequestFields"]["thinking"]["type"] == "enabled"
    # Tool search stays on: the proxy withholds the deferred tools Claude Code marks, until loaded.
    tool_names = {t["toolSpec"]["name"] for t in main[0].body["toolConfig"]["tools"] if "toolSpec" in t}
    assert {"Write", "Read", "Bash", "ToolSearch"} <= tool_names
    assert not tool_names & {"DeferredToolPlaceholder", "WebFetch", "NotebookEdit"}
    for request in main:
        if turn_of(request) == "read":
            assert_history(request.body, (WRITE_ID,))
            write = next(b["toolUse"] for b in _assistant_turn_with(request.body, WRITE_ID) if "toolUse" in b)
            assert write["input"] == {"file_path": str(note), "content": CONTENT}
        elif turn_of(request) == "final":
            assert_history(request.body, (WRITE_ID, READ_ID))
            read_result = json.dumps(_tool_results(request.body["messages"][-1])[READ_ID]["content"])
            assert all(line in read_result for line in CONTENT.splitlines())


@pytest.mark.parametrize(
    "thinking_env",
    [
        pytest.param({}, id="adaptive"),
        # Budget thinking (`enabled`, 63999 of 64000), which older builds sent for dotted ids.
        pytest.param({"CLAUDE_CODE_DISABLE_ADAPTIVE_THINKING": "1"}, id="budget"),
    ],
)
def test_claude_code_writes_and_reads_a_file_through_the_proxy(
    claude_in: Callable[..., ClaudeRun], note: Path, fake_nexus: FakeNexus, thinking_env: dict[str, str]
) -> None:
    fake_nexus.enqueue(*[ScriptedModel(note=note)] * MAX_SCRIPTED_REQUESTS)
    run = claude_in(**thinking_env)
    outcome = run.result()
    assert (outcome["type"], outcome["subtype"], outcome["is_error"]) == ("result", "success", False), run.describe()
    assert outcome["result"] == FINAL
    assert run.returncode == 0, run.describe()
    assert note.read_text() == CONTENT

    assert_main_loop(fake_nexus.requests, note, budget=bool(thinking_env))


@attrs.frozen(kw_only=True)
class RefusesAdaptiveThinking:
    """A Nexus model that rejects adaptive thinking the way Bedrock words it."""

    model: ScriptedModel

    def __call__(self, request: RecordedRequest) -> Reply:
        thinking = (request.body or {}).get("additionalModelRequestFields", {}).get("thinking", {})
        if thinking.get("type") == "adaptive":
            return error_reply(400, "ValidationException", "thinking.type: adaptive is invalid for this model")
        return self.model(request)


def test_claude_code_recovers_when_nexus_refuses_adaptive_thinking(
    claude_in: Callable[..., ClaudeRun], note: Path, fake_nexus: FakeNexus
) -> None:
    # The proxy rewords the refusal as "adaptive thinking is not supported", which Claude
    # Code answers by retrying with budget thinking.
    fake_nexus.enqueue(*[RefusesAdaptiveThinking(model=ScriptedModel(note=note))] * MAX_SCRIPTED_REQUESTS)
    run = claude_in()
    outcome = run.result()
    assert (outcome["subtype"], outcome["is_error"], outcome["result"]) == ("success", False, FINAL), run.describe()
    assert note.read_text() == CONTENT
    kinds = [
        r.body["additionalModelRequestFields"]["thinking"]["type"] for r in fake_nexus.requests if turn_of(r) == "write"
    ]
    assert kinds[0] == "adaptive" and kinds[-1] == "enabled"
