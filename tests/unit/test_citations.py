"""Citations both ways: cited answers keep their text and citations; documents ask for them."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.http.anthropic_wire import structure_request, unstructure
from adapters.nexus.converse_wire import parse_response, parse_stream_event, request_json
from domain.to_anthropic.citations import citation
from domain.to_anthropic.response import translate_response
from domain.to_anthropic.stream import StreamTranslator
from domain.to_converse.request import translate_request
from domain.vocab import anthropic as a
from domain.vocab import converse as c
from tests.support.converse_validation import validate_converse_body

POLICY = "Employees should consult with your manager for details."

# The recorded Sonnet 5 answer (langchain-aws test_citations[document0]), as Nexus sends it.
CITED_RESPONSE = {
    "output": {
        "message": {
            "role": "assistant",
            "content": [
                {"text": "Employees should "},
                {
                    "citationsContent": {
                        "content": [{"text": "consult with your manager for details."}],
                        "citations": [
                            {
                                "title": "company_policy",
                                "sourceContent": [{"text": "consult with your manager"}],
                                "location": {"documentChar": {"documentIndex": 0, "start": 58, "end": 96}},
                            }
                        ],
                    }
                },
            ],
        }
    },
    "stopReason": "end_turn",
    "usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42},
    "metrics": {"latencyMs": 5},
}


def span(**kw: int) -> c.DocumentSpan:
    return c.DocumentSpan(**kw)


def cite(location: c.CitationLocation | None, text: str = "cited", title: str | None = "policy") -> c.Citation:
    return c.Citation(title=title, source_content=(c.TextContent(text=text),), location=location)


def test_a_cited_answer_keeps_every_part_of_its_text_with_char_citations() -> None:
    out = translate_response(parse_response(CITED_RESPONSE), model="m", tool_names={})
    assert unstructure(out)["content"] == [
        {"type": "text", "text": "Employees should "},
        {
            "type": "text",
            "text": "consult with your manager for details.",
            "citations": [
                {
                    "type": "char_location",
                    "cited_text": "consult with your manager",
                    "document_index": 0,
                    "document_title": "company_policy",
                    "start_char_index": 58,
                    "end_char_index": 96,
                }
            ],
        },
    ]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (
            c.DocumentPageLocation(document_page=span(document_index=1, start=2, end=3)),
            a.PageLocation(
                type="page_location",
                cited_text="cited",
                document_index=1,
                document_title="policy",
                start_page_number=2,
                end_page_number=3,
            ),
        ),
        (
            c.DocumentChunkLocation(document_chunk=span(document_index=2, start=0, end=1)),
            a.ContentBlockLocation(
                type="content_block_location",
                cited_text="cited",
                document_index=2,
                document_title="policy",
                start_block_index=0,
                end_block_index=1,
            ),
        ),
        (None, None),
    ],
)
def test_pages_and_chunks_map_to_their_anthropic_locations(
    location: c.CitationLocation | None, expected: a.Citation | None
) -> None:
    assert citation(cite(location)) == expected


def test_a_citation_without_a_known_location_is_dropped_but_its_text_kept() -> None:
    body = {**CITED_RESPONSE}
    body["output"] = {
        "message": {
            "role": "assistant",
            "content": [
                {
                    "citationsContent": {
                        "content": [{"text": "from the web"}],
                        "citations": [{"location": {"web": {"url": "https://x", "domain": "x"}}}],
                    }
                }
            ],
        }
    }
    out = translate_response(parse_response(body), model="m", tool_names={})
    assert out.content == (a.TextBlock(type="text", text="from the web", citations=()),)


def test_streamed_citation_opens_the_text_block_and_comes_as_a_citations_delta() -> None:
    wire: list[tuple[str, dict[str, Any]]] = [
        ("messageStart", {"role": "assistant"}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Employees should "}}),
        ("contentBlockStop", {"contentBlockIndex": 0}),
        (
            "contentBlockDelta",
            {
                "contentBlockIndex": 1,
                "delta": {
                    "citation": {
                        "title": "company_policy",
                        "sourceContent": [{"text": "consult with your manager"}],
                        "location": {"documentChar": {"documentIndex": 0, "start": 58, "end": 96}},
                    }
                },
            },
        ),
        ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "consult with your manager."}}),
        ("contentBlockStop", {"contentBlockIndex": 1}),
        ("messageStop", {"stopReason": "end_turn"}),
        ("metadata", {"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, "metrics": {"latencyMs": 1}}),
    ]
    translator = StreamTranslator(tool_names={})
    events = [e for name, payload in wire for e in translator.feed(parse_stream_event(name, payload))]  # type: ignore[arg-type]
    out = [unstructure(e) for e in events]
    assert [(e["type"], e.get("index"), e.get("delta", {}).get("type")) for e in out] == [
        ("content_block_start", 0, None),
        ("content_block_delta", 0, "text_delta"),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, None),
        ("content_block_delta", 1, "citations_delta"),
        ("content_block_delta", 1, "text_delta"),
        ("content_block_stop", 1, None),
        ("message_delta", None, None),
        ("message_stop", None, None),
    ]
    assert out[3]["content_block"] == {"type": "text", "text": ""}
    assert out[4]["delta"]["citation"] == {
        "type": "char_location",
        "cited_text": "consult with your manager",
        "document_index": 0,
        "document_title": "company_policy",
        "start_char_index": 58,
        "end_char_index": 96,
    }


def test_a_streamed_citation_with_no_known_location_still_opens_the_block_for_its_text() -> None:
    translator = StreamTranslator(tool_names={})
    events = translator.feed(
        c.ContentBlockDeltaEvent(content_block_index=0, delta=c.CitationDelta(citation=cite(None)))
    )
    events += translator.feed(c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text="x")))
    assert [e.type for e in events] == ["content_block_start", "content_block_delta"]


# --- request side ---------------------------------------------------------------------


def _request(document: dict[str, Any]) -> dict[str, Any]:
    body = {
        "model": "claude-opus-4.6",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [document, {"type": "text", "text": "What should employees do?"}]}],
    }
    return request_json(translate_request(structure_request(body), beta_allowlist=()).request)


TEXT_DOC = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": POLICY}}


def test_a_document_with_citations_enabled_asks_converse_for_them_with_its_context() -> None:
    document = {**TEXT_DOC, "title": "Company policy", "context": "HR handbook", "citations": {"enabled": True}}
    body = _request(document)
    sent = body["messages"][0]["content"][0]["document"]
    assert sent["citations"] == {"enabled": True} and sent["context"] == "HR handbook"
    assert sent["name"] == "Company policy 1"
    assert validate_converse_body("converse", "claude-opus-4.6", body) == []


@pytest.mark.parametrize("citations", [None, {"enabled": False}])
def test_a_document_without_citations_enabled_sends_no_citations_member(citations: Any) -> None:
    document = {**TEXT_DOC, **({"citations": citations} if citations is not None else {})}
    sent = _request(document)["messages"][0]["content"][0]["document"]
    assert "citations" not in sent and "context" not in sent


def test_cited_text_sent_back_in_an_assistant_turn_is_read_and_sent_as_text() -> None:
    cited = {
        "type": "text",
        "text": "consult your manager",
        "citations": [
            {
                "type": "char_location",
                "cited_text": "consult",
                "document_index": 0,
                "document_title": None,
                "start_char_index": 0,
                "end_char_index": 7,
            },
            {"type": "web_search_result_location", "cited_text": "x", "url": "https://x", "encrypted_index": "e"},
        ],
    }
    body = {
        "model": "claude-opus-4.6",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": [TEXT_DOC, {"type": "text", "text": "q"}]},
            {"role": "assistant", "content": [cited]},
            {"role": "user", "content": "thanks"},
        ],
    }
    sent = request_json(translate_request(structure_request(body), beta_allowlist=()).request)
    assert sent["messages"][1]["content"] == [{"text": "consult your manager"}]
