"""Anthropic content blocks -> Converse content blocks, one block at a time.

Each function takes the block and its location (``messages.2.content.1``) so a
rejection names the exact block the client sent.
"""

from __future__ import annotations

import base64
import binascii
import re

import attrs

from domain.errors import InvalidRequestError
from domain.to_converse.names import converse_tool_name, converse_tool_use_id
from domain.vocab import anthropic as a
from domain.vocab import converse as c

IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
# Converse rejects blank text and empty tool results; this stands in for them.
EMPTY_PLACEHOLDER = "(empty)"
_DOC_NAME_BAD = re.compile(r"[^A-Za-z0-9\-()\[\] ]+")


def is_blank(text: str) -> bool:
    """True for text Converse would reject as blank (empty or whitespace only)."""
    return not text.strip()


def cache_point(control: a.CacheControl | None) -> tuple[c.CachePointContent, ...]:
    """The cachePoint that follows a block carrying ``cache_control``, if any."""
    if control is None:
        return ()
    return (c.CachePointContent(cache_point=c.CachePoint(ttl=control.ttl)),)


def decode_base64(data: str, field: str) -> bytes:
    """Strictly decoded base64; raises ``InvalidRequestError`` naming ``field``.

    Canonical text (what encoding the bytes again would give) is kept with them as a
    ``Base64Blob``, so it can be sent on as it came instead of encoded a second time.
    """
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidRequestError(f"{field}: invalid base64 data") from error
    return c.Base64Blob(decoded, data) if _canonical(decoded, data) else decoded


def _canonical(decoded: bytes, text: str) -> bool:
    # Strict decoding already refused other characters and bad padding; only the unused
    # bits of the last group may differ from a fresh encoding ("QR==" decodes as "QQ==").
    tail = len(decoded) % 3 or 3
    return not decoded or base64.b64encode(decoded[-tail:]).decode("ascii") == text[-4:]


def convert_image(block: a.ImageBlock, where: str) -> c.ImageContent:
    """An inline base64 image as a Converse image block.

    Raises:
        InvalidRequestError: a URL or file source, or a format Converse does not take.
    """
    source = block.source
    if not isinstance(source, a.Base64Source):
        raise InvalidRequestError(
            f"{where}.source: image source type {source.type!r} is not supported through "
            "AI Nexus; send the image inline as {'type': 'base64', 'media_type', 'data'}"
        )
    image_format = IMAGE_FORMATS.get(source.media_type)
    if image_format is None:
        raise InvalidRequestError(
            f"{where}.source.media_type: {source.media_type!r} is not supported; use one of {', '.join(IMAGE_FORMATS)}"
        )
    image = c.Image(format=image_format, source=c.BytesSource(bytes=decode_base64(source.data, f"{where}.source.data")))
    return c.ImageContent(image=image)


def _utf8(text: str) -> bytes:
    # JSON may carry lone surrogates, which UTF-8 cannot; they become U+FFFD.
    return text.encode("utf-8", "replace")


def document_name(title: str | None, position: int) -> str:
    """A name Converse accepts: no dots or symbols, single spaces, unique per request."""
    cleaned = " ".join(_DOC_NAME_BAD.sub(" ", title or "").split())[:180]
    return f"{cleaned or 'document'} {position}"


def convert_document(block: a.DocumentBlock, where: str, position: int) -> c.DocumentContent:
    """A PDF or text document as a Converse document named uniquely by ``position``.

    Its ``context`` and a ``citations: {enabled: true}`` go along, so the answer can cite it.

    Raises:
        InvalidRequestError: a source Converse cannot take (URL, file, other media types).
    """
    source = block.source
    name = document_name(block.title, position)
    if isinstance(source, a.Base64Source) and source.media_type == "application/pdf":
        doc = c.Document(
            format="pdf", name=name, source=c.BytesSource(bytes=decode_base64(source.data, f"{where}.source.data"))
        )
    elif isinstance(source, a.Base64Source) and source.media_type == "text/plain":
        doc = c.Document(
            format="txt", name=name, source=c.BytesSource(bytes=decode_base64(source.data, f"{where}.source.data"))
        )
    elif isinstance(source, a.PlainTextSource):
        doc = c.Document(format="txt", name=name, source=c.BytesSource(bytes=_utf8(source.data)))
    elif isinstance(source, a.ContentSource):
        text = (
            source.content
            if isinstance(source.content, str)
            else "\n\n".join(part.text for part in source.content if isinstance(part, a.TextBlock))
        )
        doc = c.Document(format="txt", name=name, source=c.BytesSource(bytes=_utf8(text)))
    else:
        kind = getattr(source, "media_type", source.type)
        raise InvalidRequestError(
            f"{where}.source: document source {kind!r} is not supported through AI Nexus; "
            "send a base64 PDF or plain text"
        )
    return c.DocumentContent(document=attrs.evolve(doc, context=block.context, citations=_citations(block)))


def _citations(block: a.DocumentBlock) -> c.CitationsConfig | None:
    # Only an explicit yes is sent: Converse's default is off, as Anthropic's is.
    enabled = block.citations is not None and block.citations.enabled
    return c.CitationsConfig(enabled=True) if enabled else None


def as_text(block: a.SearchResultBlock | a.ToolReferenceBlock) -> c.TextContent:
    """Blocks Converse has no form for, kept as text so the model still sees them."""
    if isinstance(block, a.ToolReferenceBlock):
        return c.TextContent(text=f"(tool reference: {block.tool_name})")
    body = "\n".join(part.text for part in block.content)
    return c.TextContent(text=f"{block.title}\n{block.source}\n{body}".strip())


def _tool_result_items(block: a.ToolResultBlock, where: str, docs: list[int]) -> tuple[c.ToolResultItem, ...]:
    parts: list[c.ToolResultItem] = []
    if isinstance(block.content, str):
        if not is_blank(block.content):
            parts.append(c.TextContent(text=block.content))
    else:
        for j, item in enumerate(block.content):
            here = f"{where}.content.{j}"
            if isinstance(item, a.TextBlock):
                if not is_blank(item.text):
                    parts.append(c.TextContent(text=item.text))
            elif isinstance(item, a.ImageBlock):
                parts.append(convert_image(item, here))
            elif isinstance(item, a.SearchResultBlock | a.ToolReferenceBlock):
                parts.append(as_text(item))
            else:
                docs.append(1)
                parts.append(convert_document(item, here, len(docs)))
    return tuple(parts) or (c.TextContent(text=EMPTY_PLACEHOLDER),)


def convert_tool_result(block: a.ToolResultBlock, where: str, docs: list[int]) -> c.ToolResultContent:
    """A tool result as Converse's, its content made non-empty and its error flag kept."""
    result = c.ToolResult(
        tool_use_id=converse_tool_use_id(block.tool_use_id),
        content=_tool_result_items(block, where, docs),
        status="error" if block.is_error else None,
    )
    return c.ToolResultContent(tool_result=result)


def convert_block(block: a.ContentBlock, where: str, docs: list[int]) -> tuple[c.ContentBlock, ...]:
    """One Anthropic block as Converse blocks: the block, then its cache point.

    ``docs`` counts documents across the request so their names stay unique.
    """
    converted: c.ContentBlock
    match block:
        case a.TextBlock(text=text):
            if is_blank(text):
                return cache_point(block.cache_control)
            converted = c.TextContent(text=text)
        case a.ImageBlock():
            converted = convert_image(block, where)
        case a.DocumentBlock():
            docs.append(1)
            converted = convert_document(block, where, len(docs))
        case a.ToolUseBlock(id=tool_id, name=name, input=tool_input):
            use = c.ToolUse(tool_use_id=converse_tool_use_id(tool_id), name=converse_tool_name(name), input=tool_input)
            converted = c.ToolUseContent(tool_use=use)
        case a.ToolResultBlock():
            converted = convert_tool_result(block, where, docs)
        case a.ThinkingBlock(signature=""):
            # Claude rejects thinking it did not sign (a truncated stream, another backend);
            # leaving it out lets the thinking rules decide whether thinking stays on.
            return ()
        case a.ThinkingBlock(thinking=text, signature=signature):
            reasoning = c.ReasoningText(text=text, signature=signature)
            converted = c.ReasoningContent(reasoning_content=c.ReasoningTextContent(reasoning_text=reasoning))
        case a.SearchResultBlock():
            converted = as_text(block)
        case a.RedactedThinkingBlock(data=data):
            redacted = c.RedactedReasoningContent(redacted_content=decode_base64(data, f"{where}.data"))
            converted = c.ReasoningContent(reasoning_content=redacted)
    return (converted, *cache_point(block.cache_control))
