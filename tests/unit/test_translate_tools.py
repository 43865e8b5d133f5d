"""Tools, tool results, images and documents: Anthropic -> Converse, on plain values."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from domain.errors import InvalidRequestError
from domain.to_anthropic.response import translate_response
from domain.to_converse.content import EMPTY_PLACEHOLDER
from domain.to_converse.conversation import DOCUMENT_NOTE
from domain.to_converse.request import translate_request
from domain.vocab import anthropic as a
from domain.vocab import converse as c

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (64).to_bytes(4, "big") + (32).to_bytes(4, "big")
PDF = b"%PDF-1.4 /Type /Page fake"
SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def tool(name: str = "Read", **kw: Any) -> a.Tool:
    return a.Tool(name=name, input_schema=SCHEMA, description="Read a file", **kw)


def image(data: bytes = PNG, media_type: str = "image/png") -> a.ImageBlock:
    return a.ImageBlock(type="image", source=a.Base64Source(type="base64", media_type=media_type, data=b64(data)))


def use(tool_id: str = "toolu_1", name: str = "Read", **args: Any) -> a.ToolUseBlock:
    return a.ToolUseBlock(type="tool_use", id=tool_id, name=name, input=args)


def result(tool_id: str = "toolu_1", content: Any = "ok", **kw: Any) -> a.ToolResultBlock:
    return a.ToolResultBlock(type="tool_result", tool_use_id=tool_id, content=content, **kw)


def msg(role: str, *content: Any) -> a.Message:
    return a.Message(role=role, content=content[0] if isinstance(content[0], str) else tuple(content))  # type: ignore[arg-type]


def convert(*messages: a.Message, **kw: Any) -> c.ConverseRequest:
    req = a.MessagesRequest(model="claude-opus-4.6", max_tokens=1000, messages=messages, **kw)
    return translate_request(req, beta_allowlist=()).request


LOOP = (msg("user", "read a.txt"), msg("assistant", use(path="a.txt")), msg("user", result(content="hello")))


def test_tools_become_tool_specs_with_auto_choice_by_default() -> None:
    out = convert(msg("user", "hi"), tools=(tool(),))
    assert out.tool_config == c.ToolConfig(
        tools=(
            c.ToolSpecEntry(
                tool_spec=c.ToolSpec(name="Read", input_schema=c.InputSchema(json=SCHEMA), description="Read a file")
            ),
        )
    )
    assert out.additional_model_request_fields == {"anthropic_beta": ["fine-grained-tool-streaming-2025-05-14"]}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (a.ToolChoice(type="auto"), None),
        (a.ToolChoice(type="any"), c.AnyChoice()),
        (a.ToolChoice(type="tool", name="Read"), c.SpecificChoice(tool=c.NamedTool(name="Read"))),
    ],
)
def test_tool_choice(choice: a.ToolChoice, expected: c.ToolChoice | None) -> None:
    assert convert(msg("user", "hi"), tools=(tool(),), tool_choice=choice).tool_config.tool_choice == expected  # type: ignore[union-attr]


def test_tool_choice_none_sends_no_tools_without_tool_history() -> None:
    out = convert(msg("user", "hi"), tools=(tool(),), tool_choice=a.ToolChoice(type="none"))
    assert out.tool_config is None


def test_tool_choice_none_keeps_a_valid_tool_config_when_history_has_tool_blocks() -> None:
    out = convert(*LOOP, tools=(tool(),), tool_choice=a.ToolChoice(type="none"))
    names = [e.tool_spec.name for e in out.tool_config.tools if isinstance(e, c.ToolSpecEntry)]  # type: ignore[union-attr]
    assert names == ["tools_disabled"]


def test_disable_parallel_tool_use_goes_native_without_a_conflicting_choice() -> None:
    out = convert(
        msg("user", "hi"), tools=(tool(),), tool_choice=a.ToolChoice(type="any", disable_parallel_tool_use=True)
    )
    assert out.tool_config.tool_choice is None  # type: ignore[union-attr]
    assert out.additional_model_request_fields["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}  # type: ignore[index]


def test_tool_loop_history_converts_in_place() -> None:
    out = convert(*LOOP, tools=(tool(),))
    assert out.messages[1].content == (
        c.ToolUseContent(tool_use=c.ToolUse(tool_use_id="toolu_1", name="Read", input={"path": "a.txt"})),
    )
    assert out.messages[2].content == (
        c.ToolResultContent(tool_result=c.ToolResult(tool_use_id="toolu_1", content=(c.TextContent(text="hello"),))),
    )


def test_error_results_empty_results_and_results_first() -> None:
    out = convert(
        msg("user", "go"),
        msg("assistant", use("t1"), use("t2")),
        msg("user", a.TextBlock(type="text", text="both done"), result("t1", "boom", is_error=True), result("t2", "")),
        tools=(tool(),),
    )
    first, second, text = out.messages[2].content
    assert first == c.ToolResultContent(
        tool_result=c.ToolResult(tool_use_id="t1", content=(c.TextContent(text="boom"),), status="error")
    )
    assert second.tool_result.content == (c.TextContent(text=EMPTY_PLACEHOLDER),)  # type: ignore[union-attr]
    assert text == c.TextContent(text="both done")


def test_long_or_odd_tool_names_and_ids_are_mapped_reversibly() -> None:
    odd = "mcp__server.with.dots__" + "x" * 60
    translation = translate_request(
        a.MessagesRequest(
            model="m",
            max_tokens=10,
            tools=(tool(odd),),
            messages=(
                msg("user", "q"),
                msg("assistant", use("id with spaces", odd)),
                msg("user", result("id with spaces")),
            ),
        ),
        beta_allowlist=(),
    )
    spec_name = translation.request.tool_config.tools[0].tool_spec.name  # type: ignore[union-attr]
    assert len(spec_name) <= 64 and spec_name.replace("_", "").replace("-", "").isalnum()
    sent_use = translation.request.messages[1].content[0].tool_use  # type: ignore[union-attr]
    sent_result = translation.request.messages[2].content[0].tool_result  # type: ignore[union-attr]
    assert sent_use.name == spec_name and sent_use.tool_use_id == sent_result.tool_use_id != "id with spaces"
    response = c.ConverseResponse(
        output=c.Output(
            message=c.Message(
                role="assistant",
                content=(c.ToolUseContent(tool_use=c.ToolUse(tool_use_id="tooluse_9", name=spec_name, input={})),),
            )
        ),
        stop_reason="tool_use",
        usage=c.TokenUsage(),
    )
    back = translate_response(response, model="m", tool_names=translation.original_tool_names)
    assert back.content == (a.ToolUseBlock(type="tool_use", id="tooluse_9", name=odd, input={}),)


def test_server_tools_are_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidRequestError, match="web_search.*not available through AI Nexus"):
        convert(msg("user", "q"), tools=(a.Tool(name="web_search", type="web_search_20250305"),))


def test_images_become_raw_bytes_also_inside_tool_results() -> None:
    out = convert(
        msg("user", "look"),
        msg("assistant", use()),
        msg(
            "user",
            result(content=(a.TextBlock(type="text", text="screenshot:"), image(PNG, "image/png"))),
            image(b"GIF89a..", "image/gif"),
        ),
        tools=(tool(),),
    )
    tool_result, gif = out.messages[2].content
    assert isinstance(tool_result, c.ToolResultContent)
    assert tool_result.tool_result.content[1] == c.ImageContent(
        image=c.Image(format="png", source=c.BytesSource(bytes=PNG))
    )
    assert gif == c.ImageContent(image=c.Image(format="gif", source=c.BytesSource(bytes=b"GIF89a..")))


@pytest.mark.parametrize(
    ("block", "words"),
    [
        (a.ImageBlock(type="image", source=a.UrlSource(type="url", url="https://x/y.png")), "base64"),
        (
            a.ImageBlock(type="image", source=a.Base64Source(type="base64", media_type="image/png", data="%%%")),
            "messages.0.content.0.source.data",
        ),
        (image(PNG, "image/tiff"), "image/tiff"),
        (a.DocumentBlock(type="document", source=a.UrlSource(type="url", url="https://x/y.pdf")), "not supported"),
    ],
)
def test_unusable_images_and_documents_are_400s_naming_the_block(block: a.ContentBlock, words: str) -> None:
    with pytest.raises(InvalidRequestError, match=words):
        convert(msg("user", block))


def test_documents_get_unique_converse_names_and_the_required_text_block() -> None:
    pdf = a.DocumentBlock(
        type="document",
        source=a.Base64Source(type="base64", media_type="application/pdf", data=b64(PDF)),
        title="report.v2.pdf",
    )
    txt = a.DocumentBlock(
        type="document", source=a.PlainTextSource(type="text", data="plain words"), title="report.v2.pdf"
    )
    out = convert(msg("user", pdf, txt))
    first, second, note = out.messages[0].content
    assert first.document == c.Document(format="pdf", name="report v2 pdf 1", source=c.BytesSource(bytes=PDF))  # type: ignore[union-attr]
    assert isinstance(second, c.DocumentContent)
    assert second.document == c.Document(
        format="txt", name="report v2 pdf 2", source=c.BytesSource(bytes=b"plain words")
    )
    assert note == c.TextContent(text=DOCUMENT_NOTE)


def test_parallel_tool_uses_in_a_response_all_come_through_in_order() -> None:
    response = c.ConverseResponse(
        output=c.Output(
            message=c.Message(
                role="assistant",
                content=(
                    c.TextContent(text="Reading both."),
                    c.ToolUseContent(tool_use=c.ToolUse(tool_use_id="a", name="Read", input={"path": "1"})),
                    c.ToolUseContent(tool_use=c.ToolUse(tool_use_id="b", name="Read", input=None)),
                ),
            )
        ),
        stop_reason="tool_use",
        usage=c.TokenUsage(),
    )
    out = translate_response(response, model="m", tool_names={"Read": "Read"})
    assert [b.type for b in out.content] == ["text", "tool_use", "tool_use"]
    assert out.content[2] == a.ToolUseBlock(type="tool_use", id="b", name="Read", input={})
    assert out.stop_reason == "tool_use"


def test_search_results_and_tool_references_are_kept_as_text() -> None:
    search = a.SearchResultBlock(
        type="search_result",
        source="https://docs.example/a",
        title="Docs",
        content=(a.TextBlock(type="text", text="found it"),),
    )
    reference = a.ToolReferenceBlock(type="tool_reference", tool_name="mcp__db__query")
    out = convert(
        msg("user", "q"), msg("assistant", use()), msg("user", result(content=(search, reference))), tools=(tool(),)
    )
    items = out.messages[2].content[0].tool_result.content  # type: ignore[union-attr]
    assert items == (
        c.TextContent(text="Docs\nhttps://docs.example/a\nfound it"),
        c.TextContent(text="Tool mcp__db__query is now available."),
    )
