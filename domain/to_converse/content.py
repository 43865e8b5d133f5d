"""Anthropic content blocks -> Converse content blocks, one block at a time.

Each function takes the block and its location (``messages.2.content.1``) so a
rejection names the exact block the client sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import attrs

from domain.errors import InvalidRequestError
from domain.to_converse.names import converse_tool_name, converse_tool_use_id
from domain.vocab import anthropic as a
from domain.vocab import converse as c
from domain.vocab import request_builders as rb

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
    return (rb.cache_point_content(control.ttl),)


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


# Tool result items that are never a tool reference, by class.
_PLAIN_ITEMS = frozenset({a.TextBlock, a.ImageBlock, a.DocumentBlock})


def references_no_tool(content: str | tuple[a.ToolResultItem, ...]) -> bool:
    """True for tool result content without a ``tool_reference``: text, images, documents (nearly all)."""
    return isinstance(content, str) or set(map(type, content)) <= _PLAIN_ITEMS


def _tool_result_items(block: a.ToolResultBlock, where: str, docs: list[int]) -> tuple[c.ToolResultItem, ...]:
    content = block.content
    if isinstance(content, str):
        return (rb.text_content(content),) if content.strip() else _EMPTY_RESULT
    texts: list[c.ToolResultItem] = []
    for item in content:
        if type(item) is not a.TextBlock:
            break
        if item.text.strip():
            texts.append(rb.text_content(item.text))
    else:  # nearly always: text alone
        return tuple(texts) or _EMPTY_RESULT
    parts: list[c.ToolResultItem] = []
    for j, item in enumerate(content):
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
    return tuple(parts) or _EMPTY_RESULT


_EMPTY_RESULT: tuple[c.ToolResultItem, ...] = (c.TextContent(text=EMPTY_PLACEHOLDER),)


def convert_tool_result(block: a.ToolResultBlock, where: str, docs: list[int]) -> c.ToolResultContent:
    """A tool result as Converse's, its content made non-empty and its error flag kept."""
    items = _tool_result_items(block, where, docs)
    return rb.tool_result_content(converse_tool_use_id(block.tool_use_id), items, "error" if block.is_error else None)


def _text(block: a.TextBlock, where: str, docs: list[int]) -> c.ContentBlock | None:
    return None if is_blank(block.text) else rb.text_content(block.text)


def _tool_use(block: a.ToolUseBlock, where: str, docs: list[int]) -> c.ContentBlock:
    return rb.tool_use_content(converse_tool_use_id(block.id), converse_tool_name(block.name), block.input)


def _thinking(block: a.ThinkingBlock, where: str, docs: list[int]) -> c.ContentBlock:
    # Claude rejects thinking it did not sign (a truncated stream, another backend);
    # leaving it out lets the thinking rules decide whether thinking stays on.
    return rb.reasoning_content(block.thinking, block.signature) if block.signature else DROPPED


def _document(block: a.DocumentBlock, where: str, docs: list[int]) -> c.ContentBlock:
    docs.append(1)
    return convert_document(block, where, len(docs))


def _redacted(block: a.RedactedThinkingBlock, where: str, docs: list[int]) -> c.ContentBlock:
    redacted = c.RedactedReasoningContent(redacted_content=decode_base64(block.data, f"{where}.data"))
    return c.ReasoningContent(reasoning_content=redacted)


# Stands for "nothing, not even the block's cache point" (unsigned thinking).
DROPPED: c.ContentBlock = c.TextContent(text="")
# By the block's exact class: one look-up, not a chain of class tests per block.
_CONVERTERS: dict[type, Callable[[Any, str, list[int]], c.ContentBlock | None]] = {
    a.TextBlock: _text,
    a.ImageBlock: lambda block, where, docs: convert_image(block, where),
    a.DocumentBlock: _document,
    a.ToolUseBlock: _tool_use,
    a.ToolResultBlock: convert_tool_result,
    a.ThinkingBlock: _thinking,
    a.SearchResultBlock: lambda block, where, docs: as_text(block),
    a.RedactedThinkingBlock: _redacted,
}


def convert_one(block: a.ContentBlock, where: str, docs: list[int]) -> c.ContentBlock | None:
    """The Converse block for ``block`` alone: None if blank text, ``DROPPED`` if unsigned thinking.

    Blank text leaves its cache point behind; unsigned thinking leaves nothing at all.
    """
    convert = _CONVERTERS.get(type(block)) or _CONVERTERS[_kind(block)]
    return convert(block, where, docs)


def convert_block(block: a.ContentBlock, where: str, docs: list[int]) -> tuple[c.ContentBlock, ...]:
    """One Anthropic block as Converse blocks: the block, then its cache point.

    ``docs`` counts documents across the request so their names stay unique.
    """
    converted = convert_one(block, where, docs)
    if converted is DROPPED:
        return ()
    control = block.cache_control
    if converted is None:
        return cache_point(control)
    return (converted,) if control is None else (converted, rb.cache_point_content(control.ttl))


def _kind(block: a.ContentBlock) -> type:
    # A subclass: the class it is an instance of, as a class pattern would match it.
    return next((cls for cls in _CONVERTERS if isinstance(block, cls)), type(block))
