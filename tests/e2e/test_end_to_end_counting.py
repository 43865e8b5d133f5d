"""``/v1/messages/count_tokens`` end to end, through the SDK, the proxy and the fake Nexus."""

from __future__ import annotations

import base64
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.fake_nexus import FakeNexus, JsonReply, error_reply, text_reply

if TYPE_CHECKING:
    import anthropic

PNG = base64.b64encode(
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 400, 300) + b"\x08\x02\x00\x00\x00"
).decode()
REQUEST: dict[str, Any] = {
    "model": "claude-opus-4.6",
    "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
    "tools": [{"name": "Read", "description": "Read a file", "input_schema": {"type": "object", "properties": {}}}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            ],
        }
    ],
    "thinking": {"type": "enabled", "budget_tokens": 2000},
}


def test_count_uses_nexus_count_tokens_with_the_same_translation(
    client: anthropic.Anthropic, fake_nexus: FakeNexus
) -> None:
    fake_nexus.enqueue(text_reply("a picture"), JsonReply({"inputTokens": 1234}))
    client.messages.create(**REQUEST, max_tokens=4000)
    assert client.messages.count_tokens(**REQUEST).input_tokens == 1234
    generate, count = fake_nexus.requests
    assert count.operation == "count-tokens" and count.errors == []
    expected = {
        k: v for k, v in generate.body.items() if k not in ("inferenceConfig", "additionalModelResponseFieldPaths")
    }
    assert count.body == {"input": {"converse": expected}}
    assert "toolConfig" in expected and "system" in expected and "thinking" in expected["additionalModelRequestFields"]


def test_when_nexus_cannot_count_the_estimate_answers_and_nexus_is_not_asked_again(
    client: anthropic.Anthropic, fake_nexus: FakeNexus
) -> None:
    fake_nexus.enqueue(error_reply(404, "ResourceNotFoundException", "no count-tokens here"))
    small = client.messages.count_tokens(model="claude-opus-4.6", messages=[{"role": "user", "content": "hi"}])
    big = client.messages.count_tokens(**REQUEST)
    assert 0 < small.input_tokens < big.input_tokens
    assert [r.operation for r in fake_nexus.requests] == ["count-tokens"]


def test_parallel_counts_as_claude_code_sends_them(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(*[JsonReply({"inputTokens": 100 + i}) for i in range(14)])
    with ThreadPoolExecutor(14) as pool:
        counts = list(pool.map(lambda _: client.messages.count_tokens(**REQUEST).input_tokens, range(14)))
    assert sorted(counts) == list(range(100, 114))
    assert {r.operation for r in fake_nexus.requests} == {"count-tokens"}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"model": "claude-opus-4.6"}, "messages"),
        (
            {"model": "claude-opus-4.6", "messages": [{"role": "user", "content": [{"type": "nope"}]}]},
            "messages.0.content.0.type",
        ),
    ],
)
def test_bad_count_requests_get_the_same_400s(client: anthropic.Anthropic, body: dict[str, Any], words: str) -> None:
    import anthropic

    with pytest.raises(anthropic.BadRequestError, match=words):
        client.post("/v1/messages/count_tokens", body=body, cast_to=object)


def test_unknown_model_counts_are_404(client: anthropic.Anthropic) -> None:
    import anthropic

    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def test_counts_go_without_betas_once_nexus_refused_them(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(
        error_reply(400, "ValidationException", "invalid beta flag"), *[JsonReply({"inputTokens": 55})] * 3
    )
    for _ in range(3):
        assert client.messages.count_tokens(**REQUEST).input_tokens == 55  # exact, not the estimate
    with_betas = [
        "anthropic_beta" in r.body["input"]["converse"]["additionalModelRequestFields"] for r in fake_nexus.requests
    ]
    assert with_betas == [True, False, False, False]
