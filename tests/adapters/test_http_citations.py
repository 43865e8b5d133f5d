"""Cited answers and Bedrock's usage details through the real app, with a fake Nexus gateway."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import falcon.testing

from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway

POLICY = "Employees should consult with your manager for details."
DOCUMENT = {
    "type": "document",
    "source": {"type": "text", "media_type": "text/plain", "data": POLICY},
    "title": "Company policy",
    "citations": {"enabled": True},
}
REQUEST = {
    "model": "claude-opus-4.6",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": [DOCUMENT, {"type": "text", "text": "What should employees do?"}]}],
}
CITATION = c.Citation(
    title="Company policy 1",
    source_content=(c.TextContent(text="consult with your manager"),),
    location=c.DocumentCharLocation(document_char=c.DocumentSpan(document_index=0, start=17, end=42)),
)
ANTHROPIC_CITATION = {
    "type": "char_location",
    "cited_text": "consult with your manager",
    "document_index": 0,
    "document_title": "Company policy 1",
    "start_char_index": 17,
    "end_char_index": 42,
}
USAGE = c.TokenUsage(
    input_tokens=30,
    output_tokens=12,
    total_tokens=542,
    cache_write_input_tokens=500,
    cache_details=(c.CacheDetail(ttl="1h", input_tokens=500),),
)


def cited_response(_: c.ConverseRequest) -> c.ConverseResponse:
    cited = c.CitationsBlock(content=(c.TextContent(text="consult with your manager."),), citations=(CITATION,))
    blocks = (c.TextContent(text="Employees should "), c.CitationsContent(citations_content=cited))
    return c.ConverseResponse(
        output=c.Output(message=c.Message(role="assistant", content=blocks)),
        stop_reason="end_turn",
        usage=USAGE,
        additional_model_response_fields={"usage": {"output_tokens_details": {"thinking_tokens": 7}}},
    )


def cited_events(_: c.ConverseRequest) -> list[c.StreamEvent]:
    def delta(index: int, d: c.Delta) -> c.ContentBlockDeltaEvent:
        return c.ContentBlockDeltaEvent(content_block_index=index, delta=d)

    return [
        c.MessageStartEvent(),
        delta(0, c.TextChunk(text="Employees should ")),
        c.ContentBlockStopEvent(content_block_index=0),
        delta(1, c.CitationDelta(citation=CITATION)),
        delta(1, c.TextChunk(text="consult with your manager.")),
        c.ContentBlockStopEvent(content_block_index=1),
        c.MessageStopEvent(stop_reason="end_turn"),
        c.MetadataEvent(usage=USAGE),
    ]


def app(gateway: FakeConverseGateway) -> Any:
    return create_app(Settings(api_key="secret-key", max_body_bytes=64 * 1024), gateway)


def test_a_cited_answer_keeps_all_its_text_with_citations_and_the_cache_split() -> None:
    gateway = FakeConverseGateway(on_converse=cited_response)
    client = falcon.testing.TestClient(app(gateway))
    result = client.simulate_post("/v1/messages", json=REQUEST, host="127.0.0.1")
    assert result.status_code == 200, result.text
    assert result.json["content"] == [
        {"type": "text", "text": "Employees should "},
        {"type": "text", "text": "consult with your manager.", "citations": [ANTHROPIC_CITATION]},
    ]
    assert result.json["usage"]["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 500}
    assert result.json["usage"]["output_tokens_details"] == {"thinking_tokens": 7}
    [(_, _, sent)] = gateway.calls
    document = sent.messages[0].content[0]
    assert isinstance(document, c.DocumentContent)
    assert document.document.citations == c.CitationsConfig(enabled=True)


def _stream(asgi_app: Any, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    # simulate_post would disconnect at once and cut the stream short; drive ASGI directly.
    scope = falcon.testing.create_scope(
        path="/v1/messages", method="POST", host="127.0.0.1", headers={"content-type": "application/json"}
    )
    emitter = falcon.testing.ASGIRequestEventEmitter(json.dumps(body).encode())
    collector = falcon.testing.ASGIResponseEventCollector()
    asyncio.run(asgi_app(scope, emitter, collector))
    assert collector.status == 200
    text = b"".join(collector.body_chunks).decode()
    events = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_a_streamed_citation_reaches_the_client_as_a_citations_delta_on_its_text_block() -> None:
    events = _stream(app(FakeConverseGateway(on_stream=cited_events)), {**REQUEST, "stream": True})
    second = [data for name, data in events if data.get("index") == 1]
    assert [(d["type"], d.get("delta", {}).get("type")) for d in second] == [
        ("content_block_start", None),
        ("content_block_delta", "citations_delta"),
        ("content_block_delta", "text_delta"),
        ("content_block_stop", None),
    ]
    assert second[0]["content_block"] == {"type": "text", "text": ""}
    assert second[1]["delta"]["citation"] == ANTHROPIC_CITATION
    [final] = [data for name, data in events if name == "message_delta"]
    assert final["usage"]["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 500}
