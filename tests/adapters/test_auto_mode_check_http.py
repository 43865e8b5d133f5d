"""Auto mode's check through the real app: where the results go, what Nexus sees, what is logged."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from adapters.http.traffic import TrafficLog
from domain.rules.auto_mode_policy import POLICY_TITLE
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_events, text_response
from tests.support.in_process import post_raw, sse_frames

SECRET_PATH = "/home/dev/very-private-project"
SAFEGUARDS = [
    {
        "type": "dangerous_tool_use",
        "classifier_context": {
            "permission_mode": "auto",
            "live_cwd": SECRET_PATH,
            "auto_mode": {"allow": [], "soft_deny": ["never push"], "hard_deny": []},
        },
    }
]
BODY: dict[str, Any] = {
    "model": "claude-opus-4-6",
    "max_tokens": 1000,
    "messages": [{"role": "user", "content": "list the files, then push"}],
    "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
    "safeguards": SAFEGUARDS,
}
ON = Settings(api_key="k", auto_mode_check=True)


def tool_use_events(*calls: tuple[str, str]) -> list[c.StreamEvent]:
    events: list[c.StreamEvent] = [c.MessageStartEvent()]
    for index, (tool_id, command) in enumerate(calls):
        start = c.BlockStart(tool_use=c.ToolUseStart(tool_use_id=tool_id, name="Bash"))
        chunk = c.ToolUseChunk(tool_use=c.ToolUseInput(input=json.dumps({"command": command})))
        events += [
            c.ContentBlockStartEvent(content_block_index=index, start=start),
            c.ContentBlockDeltaEvent(content_block_index=index, delta=chunk),
            c.ContentBlockStopEvent(content_block_index=index),
        ]
    usage = c.TokenUsage(input_tokens=30, output_tokens=9, total_tokens=39)
    return [*events, c.MessageStopEvent(stop_reason="tool_use"), c.MetadataEvent(usage=usage)]


def tool_use_response(*calls: tuple[str, str]) -> c.ConverseResponse:
    content = tuple(
        c.ToolUseContent(tool_use=c.ToolUse(tool_use_id=tool_id, name="Bash", input={"command": command}))
        for tool_id, command in calls
    )
    return c.ConverseResponse(
        output=c.Output(message=c.Message(role="assistant", content=content)),
        stop_reason="tool_use",
        usage=c.TokenUsage(input_tokens=30, output_tokens=9, total_tokens=39),
    )


def is_judge(request: c.ConverseRequest) -> bool:
    return any(isinstance(b, c.TextContent) and POLICY_TITLE in b.text for b in request.system or ())


def proposed_ids(request: c.ConverseRequest) -> list[str]:
    [message] = request.messages
    text = next(b.text for b in message.content if isinstance(b, c.TextContent))
    return [call["tool_use_id"] for call in json.loads(text.split("\n", 1)[1])["proposed_calls"]]


def judge_flagging(*flagged: str) -> Callable[[c.ConverseRequest], c.ConverseResponse]:
    """Answers the judge's calls: a flag for each id in ``flagged``, the rest allowed."""

    def verdict(tool_id: str) -> dict[str, Any]:
        rule = "soft_deny.0" if tool_id in flagged else None
        return {"tool_use_id": tool_id, "flag": tool_id in flagged, "reason": "it pushes", "rule": rule}

    def answer(request: c.ConverseRequest) -> c.ConverseResponse:
        return text_response(json.dumps({"verdicts": [verdict(i) for i in proposed_ids(request)]}))

    return answer


Answer = Callable[[c.ConverseRequest], c.ConverseResponse] | None


def gateway_for(main: Answer, judge: Answer = None, stream: Any = None) -> FakeConverseGateway:
    def converse(request: c.ConverseRequest) -> c.ConverseResponse:
        answer = judge if is_judge(request) else main
        assert answer is not None, "an unexpected converse call"
        return answer(request)

    return FakeConverseGateway(on_converse=converse, on_stream=stream or (lambda _: text_events("hi")))


def stream(settings: Settings, gateway: FakeConverseGateway, body: dict[str, Any], **app: Any) -> list[Any]:
    status, raw = post_raw(create_app(settings, gateway, **app), json.dumps({**body, "stream": True}).encode())
    assert status == 200, raw
    return sse_frames(raw)


def message_delta(frames: list[Any]) -> dict[str, Any]:
    [delta] = [data for name, data in frames if name == "message_delta"]
    return dict(delta["delta"])


def upstream_text(gateway: FakeConverseGateway) -> str:
    return " ".join(repr(request) for _, _, request in gateway.calls)


def test_streamed_parallel_tool_uses_each_get_a_verdict_in_the_final_message_delta() -> None:
    calls = (("toolu_ls", "ls"), ("toolu_push", "git push"))
    gateway = gateway_for(main=None, judge=judge_flagging("toolu_push"), stream=lambda _: tool_use_events(*calls))
    frames = stream(ON, gateway, BODY)
    names = [name for name, _ in frames if name != "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    sent_ids = [d["content_block"]["id"] for n, d in frames if n == "content_block_start"]
    delta = message_delta(frames)
    assert delta["stop_reason"] == "tool_use"
    [result] = delta["safeguard_results"]
    assert result["type"] == "dangerous_tool_use" and result["status"]["type"] == "available"
    verdicts = result["status"]["tool_uses"]
    assert list(verdicts) == sent_ids == ["toolu_ls", "toolu_push"]
    assert verdicts["toolu_ls"] == {"type": "evaluated", "outcome": "not_flagged"}
    assert verdicts["toolu_push"]["outcome"] == "flagged"
    assert verdicts["toolu_push"]["cited_rule"] == {"type": "classifier_context", "path": "auto_mode.soft_deny.0"}
    assert "nexus-claude-api" in verdicts["toolu_push"]["explanation"]
    assert [op for op, _, _ in gateway.calls] == ["converse-stream", "converse"]


def test_a_whole_message_carries_the_results_at_the_top_level() -> None:
    calls = (("toolu_a", "ls"), ("toolu_b", "make test"))
    gateway = gateway_for(main=lambda _: tool_use_response(*calls), judge=judge_flagging())
    status, raw = post_raw(create_app(ON, gateway), json.dumps(BODY).encode())
    assert status == 200
    answer = json.loads(raw)
    ids = [block["id"] for block in answer["content"] if block["type"] == "tool_use"]
    [result] = answer["safeguard_results"]
    assert list(result["status"]["tool_uses"]) == ids == ["toolu_a", "toolu_b"]
    assert {v["outcome"] for v in result["status"]["tool_uses"].values()} == {"not_flagged"}


def test_a_text_only_reply_gets_an_empty_result_without_a_judge_call() -> None:
    gateway = gateway_for(main=lambda _: text_response("done"))
    frames = stream(ON, gateway, BODY)
    assert message_delta(frames)["safeguard_results"] == [
        {"type": "dangerous_tool_use", "status": {"type": "available", "tool_uses": {}}}
    ]
    status, raw = post_raw(create_app(ON, gateway), json.dumps(BODY).encode())
    assert json.loads(raw)["safeguard_results"][0]["status"]["tool_uses"] == {}
    assert [op for op, _, _ in gateway.calls] == ["converse-stream", "converse"]


@pytest.mark.parametrize(
    ("settings", "body"),
    [
        (Settings(api_key="k"), BODY),  # the setting off: as before
        (ON, {k: v for k, v in BODY.items() if k != "safeguards"}),  # no check asked for
    ],
)
def test_nothing_is_added_unless_asked_for_and_turned_on(settings: Settings, body: dict[str, Any]) -> None:
    calls = (("toolu_a", "ls"),)
    gateway = gateway_for(main=lambda _: tool_use_response(*calls), stream=lambda _: tool_use_events(*calls))
    frames = stream(settings, gateway, body)
    assert "safeguard_results" not in message_delta(frames)
    status, raw = post_raw(create_app(settings, gateway), json.dumps(body).encode())
    assert "safeguard_results" not in json.loads(raw)
    assert [op for op, _, _ in gateway.calls] == ["converse-stream", "converse"]


def test_neither_safeguards_nor_their_context_nor_the_betas_reach_nexus() -> None:
    calls = (("toolu_a", "ls"),)
    gateway = gateway_for(main=None, judge=judge_flagging(), stream=lambda _: tool_use_events(*calls))
    body = {**BODY, "betas": ["dangerous-tool-use-2026-09-03", "afk-mode-2026-01-31"]}
    stream(ON, gateway, body)
    main_request = gateway.calls[0][2]
    assert "safeguard" not in repr(main_request) and SECRET_PATH not in repr(main_request)
    assert "dangerous-tool-use" not in upstream_text(gateway) and "afk-mode" not in upstream_text(gateway)


def test_a_judge_past_its_deadline_refuses_rather_than_runs(caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()

    def hung(request: c.ConverseRequest) -> c.ConverseResponse:
        release.wait(10)
        return text_response("{}")

    calls = (("toolu_a", "rm -rf /"),)
    gateway = gateway_for(main=None, judge=hung, stream=lambda _: tool_use_events(*calls))
    settings = attrs.evolve(ON, auto_mode_check_timeout=0.05)
    try:
        with caplog.at_level(logging.INFO):
            frames = stream(settings, gateway, BODY, traffic=TrafficLog(), ping_interval=0.01)
    finally:
        release.set()
    [result] = message_delta(frames)["safeguard_results"]
    assert result["status"]["tool_uses"] == {"toolu_a": {"type": "unavailable", "reason": "timeout"}}
    assert [m for m in caplog.messages if "auto-mode-check" in m and "504 timeout_error" in m]


def test_the_judges_calls_are_logged_as_their_own_kind_and_the_context_never(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = (("toolu_a", "ls"),)
    gateway = gateway_for(main=None, judge=judge_flagging(), stream=lambda _: tool_use_events(*calls))
    traffic = TrafficLog()
    with caplog.at_level(logging.DEBUG):
        stream(ON, gateway, BODY, traffic=traffic)
    lines = [m for m in caplog.messages if " 200 " in m]
    assert [m for m in lines if "auto-mode-check" in m] and [m for m in lines if " stream 200 " in m]
    assert "1 requests and 1 auto-mode checks by the proxy" in traffic.summary()
    assert "in=12 out=3" in next(m for m in lines if "auto-mode-check" in m)
    assert not [m for m in caplog.messages if SECRET_PATH in m or "classifier_context" in m]
    # Asked for once, the proxy says that it answers the check itself.
    assert [m for m in caplog.messages if "answered by this proxy with the Nexus model" in m]


def test_a_streamed_answer_is_sent_whole_before_the_judge_answers() -> None:
    judged = threading.Event()
    order: list[str] = []

    def judge(request: c.ConverseRequest) -> c.ConverseResponse:
        order.append("judge")
        judged.set()
        return judge_flagging()(request)

    def events(_: c.ConverseRequest) -> Iterator[c.StreamEvent]:
        for event in tool_use_events(("toolu_a", "ls")):
            if isinstance(event, c.MetadataEvent):
                order.append("upstream done")
            yield event

    frames = stream(ON, gateway_for(main=None, judge=judge, stream=events), BODY)
    assert order == ["upstream done", "judge"] and judged.is_set()
    assert message_delta(frames)["safeguard_results"][0]["status"]["tool_uses"]["toolu_a"]["outcome"] == "not_flagged"
