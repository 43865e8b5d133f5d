"""Auto mode's check in the real server with the fake AI Nexus: while the judge thinks, the
client already has the whole answer, and the stream's thread gives way to other streams."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from domain.rules.auto_mode_policy import POLICY_TITLE
from tests.support.fake_nexus import FakeNexus, RecordedRequest, Reply, message_stream, text_reply, tool_use_events
from tests.support.sse_client import post_stream, sse_events

BODY: dict[str, Any] = {
    "model": "claude-opus-4.6",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "list the files"}],
    "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
    "safeguards": [{"type": "dangerous_tool_use", "classifier_context": {"permission_mode": "auto"}}],
}
# Long enough that a held-back answer shows as a timeout verdict rather than as luck.
CHECK_TIMEOUT = 5.0
WAIT = 10


def replies(answer_seen: threading.Event, other_stream_done: threading.Event) -> Callable[[RecordedRequest], Reply]:
    def reply(request: RecordedRequest) -> Reply:
        if POLICY_TITLE in json.dumps(request.body.get("system", [])):
            # The judge answers only once the client has read the whole tool call and a
            # second stream has run to its end meanwhile.
            answer_seen.wait(WAIT) and other_stream_done.wait(WAIT)
            [call] = json.loads(request.body["messages"][0]["content"][0]["text"].split("\n", 1)[1])["proposed_calls"]
            verdict = {"tool_use_id": call["tool_use_id"], "flag": False, "reason": "harmless", "rule": None}
            return text_reply(json.dumps({"verdicts": [verdict]}))
        if "safeguards" in json.dumps(request.body):
            raise AssertionError("safeguards reached Nexus")
        if request.body["messages"][0]["content"][0].get("text") == "second":
            return message_stream([*tool_use_events(0, "tooluse_Other01", "Bash", ['{"command": "pwd"}'])])
        bash = json.dumps({"command": "ls"})
        return message_stream(tool_use_events(0, "tooluse_First01", "Bash", [bash]), stop_reason="tool_use")

    return reply


def test_the_answer_reaches_the_client_and_other_streams_run_while_the_judge_thinks(
    serve_proxy: Callable[..., str], fake_nexus: FakeNexus
) -> None:
    answer_seen, other_done = threading.Event(), threading.Event()
    fake_nexus.enqueue(*[replies(answer_seen, other_done)] * 3)
    url = serve_proxy(auto_mode_check=True, auto_mode_check_timeout=CHECK_TIMEOUT)
    names: list[str | None] = []
    final: dict[str, Any] = {}
    with post_stream(url, BODY) as response:
        for name, data in sse_events(response):
            names.append(name)
            if name == "content_block_stop":
                answer_seen.set()
                second = {**BODY, "messages": [{"role": "user", "content": "second"}], "safeguards": None}
                with post_stream(url, {k: v for k, v in second.items() if v is not None}) as other:
                    other_names = [n for n, _ in sse_events(other)]
                assert other_names[-1] == "message_stop"
                other_done.set()
            if name == "message_delta":
                final = data
    [result] = final["delta"]["safeguard_results"]
    assert result["status"]["tool_uses"] == {"tooluse_First01": {"type": "evaluated", "outcome": "not_flagged"}}
    assert names[-1] == "message_stop"
