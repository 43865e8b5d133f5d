"""Token counting: Nexus first, a remembered fallback, and an estimate that only grows."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest

from domain import errors
from domain.rules.token_estimate import estimate_tokens, image_tokens
from domain.services.cooldown import Cooldown
from domain.services.counting import TokenCounter
from domain.vocab import converse as c
from tests.support.fake_gateway import FakeConverseGateway


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + header
        + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    )


def request(*blocks: c.ContentBlock, tools: int = 0, system: str | None = None) -> c.ConverseRequest:
    specs = tuple(
        c.ToolSpecEntry(
            tool_spec=c.ToolSpec(
                name=f"tool_{i}",
                description="Does a thing with a file path",
                input_schema=c.InputSchema(json={"type": "object", "properties": {"path": {"type": "string"}}}),
            )
        )
        for i in range(tools)
    )
    return c.ConverseRequest(
        messages=(c.Message(role="user", content=blocks or (c.TextContent(text="hi"),)),),
        system=(c.TextContent(text=system),) if system else None,
        tool_config=c.ToolConfig(tools=specs) if specs else None,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def upstream(gateway: FakeConverseGateway) -> Any:
    return lambda body: gateway.count_tokens("m", body)


def failing(error: Exception) -> Any:
    def fail(_: c.ConverseRequest) -> int:
        raise error

    return fail


def test_nexus_count_is_used_when_available() -> None:
    gateway = FakeConverseGateway(on_count=lambda _: 4242)
    assert TokenCounter().count("m", request(), upstream(gateway)) == 4242
    assert [call[0] for call in gateway.calls] == ["count-tokens"]


@pytest.mark.parametrize(
    "error",
    [
        errors.UpstreamNotFoundError("no route"),
        errors.UpstreamAuthError("AI Nexus refused the API key"),
        errors.UpstreamRejectedError("The provided model doesn't support counting tokens."),
        errors.UpstreamRejectedError("Malformed input request: extraneous key [output_config] is not permitted"),
        errors.UpstreamTimeoutError("slow"),
    ],
)
def test_when_nexus_cannot_count_the_estimate_answers_and_the_model_is_remembered(error: Exception) -> None:
    clock = Clock()
    gateway = FakeConverseGateway(on_count=failing(error))
    counter = TokenCounter(uncountable=Cooldown(seconds=600, clock=clock))
    body = request(c.TextContent(text="x" * 700))
    assert counter.count("m", body, upstream(gateway)) == estimate_tokens(body) > 0
    assert counter.count("m", body, upstream(gateway)) == estimate_tokens(body)
    assert len(gateway.calls) == 1, "a remembered model must not cost another round trip"
    assert counter.available("other-model")
    clock.now += 601
    gateway.on_count = lambda _: 77
    assert counter.count("m", body, upstream(gateway)) == 77


def test_passing_trouble_falls_back_without_being_remembered() -> None:
    gateway = FakeConverseGateway(on_count=failing(errors.UpstreamThrottledError("slow down")))
    counter = TokenCounter()
    assert counter.count("m", request(), upstream(gateway)) == estimate_tokens(request())
    assert counter.available("m")


def test_a_local_400_is_the_clients_error_and_marks_no_model() -> None:
    # Raised before any call to Nexus (our validation), so it says nothing about the model.
    gateway = FakeConverseGateway(on_count=failing(errors.InvalidRequestError("messages: at least one message")))
    counter = TokenCounter()
    with pytest.raises(errors.InvalidRequestError):
        counter.count("m", request(), upstream(gateway))
    assert counter.available("m")
    gateway.on_count = lambda _: 5
    assert counter.count("m", request(), upstream(gateway)) == 5


def test_estimate_is_never_zero_and_grows_with_every_kind_of_content() -> None:
    steps = [
        request(c.TextContent(text="a")),
        request(c.TextContent(text="a" * 400)),
        request(c.TextContent(text="a" * 400), system="You are a coding agent. " * 20),
        request(c.TextContent(text="a" * 400), system="You are a coding agent. " * 20, tools=3),
        request(
            c.TextContent(text="a" * 400),
            c.ImageContent(image=c.Image(format="png", source=c.BytesSource(bytes=png(800, 600)))),
            system="You are a coding agent. " * 20,
            tools=3,
        ),
        request(
            c.TextContent(text="a" * 400),
            c.ImageContent(image=c.Image(format="png", source=c.BytesSource(bytes=png(800, 600)))),
            c.DocumentContent(document=c.Document(format="txt", name="d", source=c.BytesSource(bytes=b"words " * 500))),
            system="You are a coding agent. " * 20,
            tools=3,
        ),
    ]
    counts = [estimate_tokens(step) for step in steps]
    assert counts[0] >= 1
    assert counts == sorted(counts) and len(set(counts)) == len(counts), counts


def test_tool_use_and_results_count() -> None:
    use = c.ToolUseContent(tool_use=c.ToolUse(tool_use_id="t", name="Read", input={"path": "/a/long/path/to/file.py"}))
    result = c.ToolResultContent(
        tool_result=c.ToolResult(tool_use_id="t", content=(c.TextContent(text="line\n" * 200),))
    )
    assert estimate_tokens(request(use, result)) > estimate_tokens(request(use)) > estimate_tokens(request())


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(750, 1, 1), (200, 200, 54), (1000, 1000, 1334), (3000, 1500, 1640)],
)
def test_images_cost_what_anthropic_documents(width: int, height: int, expected: int) -> None:
    # width * height / 750, after scaling the long edge down to 1568 px.
    assert image_tokens(png(width, height)) == expected
