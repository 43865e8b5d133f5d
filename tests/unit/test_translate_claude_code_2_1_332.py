"""What Claude Code 2.1.332 adds to its requests, translated as Bedrock takes it (plain values)."""

from __future__ import annotations

import json
from typing import Any

from adapters.nexus.converse_wire import request_json
from domain.rules.betas import DEFAULT_BETA_ALLOWLIST
from domain.to_converse.request import Translation, translate_request
from domain.vocab import anthropic as a
from domain.vocab import converse as c

BILLING = "x-anthropic-billing-header: cc_version=2.1.332.7ea; cc_entrypoint=sdk-cli;"
IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude."
EPHEMERAL = a.CacheControl()


def translate(prompt: str = "hi", **kw: Any) -> Translation:
    kw.setdefault("max_tokens", 32000)
    messages = (a.Message(role="user", content=prompt),)
    return translate_request(
        a.MessagesRequest(model="claude-opus-4.6", messages=messages, **kw), beta_allowlist=DEFAULT_BETA_ALLOWLIST
    )


def claude_code_system(billing: str) -> tuple[a.TextBlock, ...]:
    return (
        a.TextBlock(type="text", text=billing),
        a.TextBlock(type="text", text=IDENTITY, cache_control=EPHEMERAL),
        a.TextBlock(type="text", text="The main prompt.", cache_control=EPHEMERAL),
    )


def test_the_per_session_billing_line_never_reaches_nexus() -> None:
    system = translate(system=claude_code_system(BILLING)).request.system
    assert system is not None
    texts = [block.text for block in system if isinstance(block, c.TextContent)]
    assert texts == [IDENTITY, "The main prompt."]


def test_two_sessions_send_the_same_bytes_up_to_the_first_cache_point() -> None:
    def prefix(billing: str, prompt: str) -> str:
        body = json.dumps(request_json(translate(prompt, system=claude_code_system(billing)).request)["system"])
        return body[: body.index("cachePoint")]

    assert prefix(BILLING, "first") == prefix(BILLING.replace("7ea", "4a6"), "second")


def test_empty_stop_sequences_are_dropped() -> None:
    config = translate(stop_sequences=("", "END", "")).request.inference_config
    assert config is not None and config.stop_sequences == ("END",)
    config = translate(stop_sequences=("",)).request.inference_config
    assert config is not None and config.stop_sequences is None


def test_interleaved_thinking_is_not_sent_with_adaptive_thinking() -> None:
    betas = ("interleaved-thinking-2025-05-14", "context-1m-2025-08-07")
    adaptive = translate(thinking=a.ThinkingConfig(type="adaptive"), betas=betas).request
    assert (adaptive.additional_model_request_fields or {})["anthropic_beta"] == ["context-1m-2025-08-07"]
    budget = translate(thinking=a.ThinkingConfig(type="enabled", budget_tokens=4000), betas=betas).request
    assert (budget.additional_model_request_fields or {})["anthropic_beta"] == list(betas)


def test_thinking_display_goes_upstream_with_its_beta() -> None:
    request = translate(
        thinking=a.ThinkingConfig(type="adaptive", display="updates"),
        betas=("thinking-display-updates-2026-08-18",),
    ).request
    fields = request.additional_model_request_fields or {}
    assert fields["thinking"] == {"type": "adaptive", "display": "updates"}
    assert fields["anthropic_beta"] == ["thinking-display-updates-2026-08-18"]


def test_structured_output_goes_upstream_as_converse_text_format() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    body = request_json(
        translate(output_config=a.OutputConfig(format={"type": "json_schema", "schema": schema})).request
    )
    text_format = body["outputConfig"]["textFormat"]
    assert text_format["type"] == "json_schema"
    assert json.loads(text_format["structure"]["jsonSchema"]["schema"]) == schema
    assert "system" not in body  # no instruction while the native form is in use


def test_thinking_requests_ask_nexus_for_the_thinking_token_count() -> None:
    thinking = translate(thinking=a.ThinkingConfig(type="adaptive")).request
    assert thinking.additional_model_response_field_paths == ("/usage/output_tokens_details",)
    assert translate().request.additional_model_response_field_paths is None
