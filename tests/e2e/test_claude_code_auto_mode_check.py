"""The real Claude Code 2.1.332 in auto mode, without its built-in fallback, through a proxy
that answers the safety check itself (``auto_mode_check``), with a scripted judge on the fake
AI Nexus: a command it allows runs, one it flags is refused with the proxy's explanation, and
one it cannot judge in time is refused rather than run. One session covers all three.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from domain.rules.auto_mode_policy import POLICY_TITLE
from entrypoints.launch import claude_code_command
from entrypoints.settings import Settings
from tests.support.claude_code import ProxyTap, claude_env, require_claude, run_claude_args
from tests.support.fake_nexus import (
    FakeNexus,
    RecordedRequest,
    Reply,
    message_stream,
    text_reply,
    text_stream,
    tool_use_events,
)
from tests.support.proxy import proxy_app

pytestmark = pytest.mark.claude_code

# Each writes outside the working directory, so that auto mode must ask the check.
COMMANDS = {
    "allowed": "echo allowed-ok > ../allowed.txt",
    "flagged": "echo flagged > ../flagged.txt",
    "late": "echo late > ../late.txt",
}
TOOL_IDS = {kind: f"tooluse_{kind}Call01" for kind in COMMANDS}
# Long enough for the fake's instant answers on a loaded machine, short for the test.
CHECK_TIMEOUT = 0.6
REASON = "it writes a file the user never asked for"


def is_judge(request: RecordedRequest) -> bool:
    return POLICY_TITLE in json.dumps(request.body.get("system", []))


def proposed(request: RecordedRequest) -> list[dict[str, Any]]:
    text = request.body["messages"][0]["content"][0]["text"]
    calls: list[dict[str, Any]] = json.loads(text.split("\n", 1)[1])["proposed_calls"]
    return calls


def scripted(release: threading.Event) -> Any:
    """The model proposes the three commands one turn at a time; the judge allows the
    first, flags the second, and never answers the third in time."""

    def judge(request: RecordedRequest) -> Reply:
        [call] = proposed(request)
        command = call["input"]["command"]
        if command == COMMANDS["late"]:
            release.wait(30)  # past the proxy's deadline; released when the test ends
        flag = command == COMMANDS["flagged"]
        verdict = {"tool_use_id": call["tool_use_id"], "flag": flag, "reason": REASON, "rule": None}
        return text_reply(json.dumps({"verdicts": [verdict]}))

    def reply(request: RecordedRequest) -> Reply:
        if is_judge(request):
            return judge(request)
        results = sum("toolResult" in block for m in request.body["messages"] for block in m["content"])
        if results == len(COMMANDS):
            return text_stream("All three tried.")
        kind = list(COMMANDS)[results]
        bash = json.dumps({"command": COMMANDS[kind], "description": f"the {kind} command"})
        return message_stream(tool_use_events(0, TOOL_IDS[kind], "Bash", [bash]), stop_reason="tool_use")

    return reply


def tool_result_text(tap: ProxyTap, tool_id: str) -> str:
    for exchange in tap.exchanges:
        for message in (exchange.json() or {}).get("messages", []):
            for block in message["content"] if isinstance(message["content"], list) else ():
                if block.get("type") == "tool_result" and block.get("tool_use_id") == tool_id:
                    content = block["content"]
                    return content if isinstance(content, str) else json.dumps(content)
    raise AssertionError(f"Claude Code never answered {tool_id}")


def test_auto_mode_runs_refuses_and_fails_closed_on_the_proxys_check(
    mount: Any, fake_nexus: FakeNexus, tmp_path: Path
) -> None:
    binary = require_claude()
    settings = {"auto_mode_check": True, "auto_mode_check_timeout": CHECK_TIMEOUT}
    tap = ProxyTap(proxy_app(fake_nexus.url, **settings))
    port = int(mount(tap).rsplit(":", 1)[1])
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = claude_env(claude_code_command(Settings(api_key="unused", port=port, auto_mode_check=True)), home)
    assert "CLAUDE_CODE_AUTO_MODE_SERVER" not in env  # the built-in fallback stays off
    release = threading.Event()
    fake_nexus.enqueue(*[scripted(release)] * 20)
    try:
        run = run_claude_args(
            binary,
            ["-p", "Run the three commands.", "--permission-mode", "auto", "--output-format", "json"],
            env=env,
            cwd=work,
        )
    finally:
        release.set()

    outcome = run.result()
    assert outcome["result"] == "All three tried.", run.describe()
    assert (tmp_path / "allowed.txt").read_text() == "allowed-ok\n"
    assert not (tmp_path / "flagged.txt").exists() and not (tmp_path / "late.txt").exists()
    denied = [d["tool_use_id"] for d in outcome["permission_denials"]]
    assert denied == [TOOL_IDS["flagged"], TOOL_IDS["late"]], run.describe()
    # What the model (and the transcript) is told: the proxy's own words for the flag.
    flagged = tool_result_text(tap, TOOL_IDS["flagged"])
    assert "nexus-claude-api's own auto-mode check" in flagged and REASON in flagged
    assert "timed out" in tool_result_text(tap, TOOL_IDS["late"])
    judged = [proposed(r)[0]["tool_use_id"] for r in fake_nexus.requests if is_judge(r)]
    assert judged == list(TOOL_IDS.values())
    # Claude Code asked for the check; Nexus never saw the request's safeguards or betas.
    assert all("safeguards" in (e.json() or {}) for e in tap.exchanges if e.path.startswith("/v1/messages?"))
    main = [json.dumps(r.body) for r in fake_nexus.requests if not is_judge(r)]
    assert main and not [t for t in main if "classifier_context" in t or "dangerous-tool-use" in t or "afk-mode" in t]
