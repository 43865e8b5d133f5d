"""A request body shaped like the one Claude Code sends mid-session, for timing translation.

Claude Code's real requests are large: two dozen tools with JSON schemas, a long system prompt
in three cached blocks, and a history of thinking, tool calls and tool results. Translation
cost grows with all of that, so the benchmark needs the same shape (about 115 KB), not a
"hello". The text is filler from a fixed seed, so every run translates the same bytes.
"""

from __future__ import annotations

import random
from typing import Any

TOOL_NAMES = (
    "Task",
    "Bash",
    "Glob",
    "Grep",
    "LS",
    "ExitPlanMode",
    "Read",
    "Edit",
    "MultiEdit",
    "Write",
    "NotebookEdit",
    "WebFetch",
    "TodoWrite",
    "WebSearch",
    "BashOutput",
    "KillShell",
    "SlashCommand",
    "Skill",
    "AskUserQuestion",
    "mcp__ide__getDiagnostics",
    "mcp__ide__executeCode",
    "mcp__github__search_code",
    "mcp__github__get_issue",
    "mcp__github__create_pull_request",
)
# Words for filler text; a word list, not lorem ipsum, so the text looks like a coding session.
_VOCABULARY = (
    "the file path tool call result output error line function return value test module class import config "
    "request stream token model cache system user assistant repository branch commit directory search pattern "
    "match edit write read command shell timeout background process"
)
_WORDS = _VOCABULARY.split()
EPHEMERAL = {"type": "ephemeral"}


def _filler(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def _schema(rng: random.Random, fields: int) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for i in range(fields):
        kind = rng.choice(("string", "number", "boolean", "array"))
        prop: dict[str, Any] = {"type": kind, "description": _filler(rng, 120)}
        if kind == "array":
            prop["items"] = {"type": "object", "properties": {"content": {"type": "string"}, "id": {"type": "string"}}}
        properties[f"field_{i}"] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties)[:2],
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    }


def _tools(rng: random.Random) -> list[dict[str, Any]]:
    return [{"name": name, "description": _filler(rng, 1000), "input_schema": _schema(rng, 5)} for name in TOOL_NAMES]


def _system(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.0; cc_entrypoint=cli"},
        {
            "type": "text",
            "text": "You are Claude Code, Anthropic's official CLI for Claude.",
            "cache_control": EPHEMERAL,
        },
        {"type": "text", "text": _filler(rng, 14000), "cache_control": EPHEMERAL},
    ]


def _assistant_turn(rng: random.Random, turn: int) -> dict[str, Any]:
    tool = rng.choice(TOOL_NAMES[:12])
    return {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": _filler(rng, 300), "signature": f"EqQBCkYIBxgCKkA{turn:04d}" + "A" * 300},
            {"type": "text", "text": _filler(rng, 120)},
            {"type": "tool_use", "id": f"toolu_01{turn:022d}", "name": tool, "input": {"path": f"/src/m{turn}.py"}},
        ],
    }


def _tool_result_turn(rng: random.Random, turn: int) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": f"toolu_01{turn:022d}",
                "content": [{"type": "text", "text": _filler(rng, 700)}],
            }
        ],
    }


def _history(rng: random.Random, turns: int) -> list[dict[str, Any]]:
    opening = [
        {"type": "text", "text": "<system-reminder>\n" + _filler(rng, 1500) + "\n</system-reminder>"},
        {"type": "text", "text": "Find why the stream stalls and fix it."},
    ]
    messages: list[dict[str, Any]] = [{"role": "user", "content": opening}]
    for turn in range(turns):
        messages += [_assistant_turn(rng, turn), _tool_result_turn(rng, turn)]
    messages[-1]["content"][-1]["cache_control"] = EPHEMERAL
    return messages


def claude_code_request(turns: int = 26) -> dict[str, Any]:
    """The parsed JSON body of one streamed Claude Code request (about 115 KB as JSON)."""
    rng = random.Random(2025)
    return {
        "model": "claude-opus-4-6",
        "max_tokens": 32000,
        "stream": True,
        "system": _system(rng),
        "tools": _tools(rng),
        "messages": _history(rng, turns),
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "metadata": {"user_id": "user_0123456789abcdef_account__session_0123"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    }
