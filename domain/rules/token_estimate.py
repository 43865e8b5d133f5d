"""A local estimate of input tokens, for when Nexus cannot count.

Claude's tokenizer averages a little under four characters per token on English and
code; JSON-heavy tool schemas run denser. The estimate leans high on purpose: Claude
Code compacts on this number, and compacting early is cheaper than overflowing.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

from domain.vocab import converse as c

CHARS_PER_TOKEN = 3.5
# Per message and per tool, the framing Claude adds around content.
MESSAGE_OVERHEAD = 4
TOOL_OVERHEAD = 8
# Anthropic's documented image cost: width * height / 750, images scaled to 1568 px.
_IMAGE_DIVISOR = 750
_MAX_EDGE = 1568
_DEFAULT_IMAGE_TOKENS = 1600
# A PDF page costs roughly this much text plus its rendered image.
_PDF_PAGE_TOKENS = 2300


def _text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _json_tokens(value: Any) -> int:
    return _text_tokens(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF, WebP or JPEG header, when recognisable."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        return width, int.from_bytes(data[27:30], "little") + 1
    return _jpeg_size(data) if data[:2] == b"\xff\xd8" else None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    offset = 2
    while offset + 9 < len(data):
        if data[offset] != 0xFF:
            return None
        marker, length = data[offset + 1], int.from_bytes(data[offset + 2 : offset + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return width, height
        offset += 2 + length
    return None


def image_tokens(data: bytes) -> int:
    """Claude's token cost of an image: its area after downscaling to the longest edge Claude uses."""
    size = image_size(data)
    if size is None:
        return _DEFAULT_IMAGE_TOKENS
    width, height = size
    scale = min(1.0, _MAX_EDGE / max(width, height, 1))
    return max(1, math.ceil(width * scale * height * scale / _IMAGE_DIVISOR))


def _document_tokens(document: c.Document) -> int:
    source = document.source
    if isinstance(source, c.TextSource):
        return _text_tokens(source.text)
    if document.format == "pdf":
        pages = max(1, source.bytes.count(b"/Type /Page") - source.bytes.count(b"/Type /Pages"))
        return pages * _PDF_PAGE_TOKENS
    return _text_tokens(source.bytes.decode("utf-8", "replace"))


def _block_tokens(block: object) -> int:
    match block:
        case c.TextContent(text=text):
            return _text_tokens(text)
        case c.ImageContent(image=image):
            return image_tokens(image.source.bytes)
        case c.DocumentContent(document=document):
            return _document_tokens(document)
        case c.JsonContent(json=value):
            return _json_tokens(value)
        case c.ToolUseContent(tool_use=use):
            return TOOL_OVERHEAD + _text_tokens(use.name) + _json_tokens(use.input)
        case c.ToolResultContent(tool_result=result):
            return TOOL_OVERHEAD + sum(_block_tokens(item) for item in result.content)
        case c.ReasoningContent(reasoning_content=c.ReasoningTextContent(reasoning_text=r)):
            return _text_tokens(r.text)
        case c.ReasoningContent(reasoning_content=c.RedactedReasoningContent(redacted_content=d)):
            return math.ceil(len(d) / 4)
    return 0


def _tool_tokens(entry: c.ToolEntry) -> int:
    if not isinstance(entry, c.ToolSpecEntry):
        return 0
    spec = entry.tool_spec
    text = spec.name + (spec.description or "")
    return TOOL_OVERHEAD + _text_tokens(text) + _json_tokens(spec.input_schema.json)


def estimate_tokens(request: c.ConverseRequest) -> int:
    """Estimated input tokens of a Converse request: never zero, grows with the request."""
    total = sum(_block_tokens(block) for block in request.system or ())
    for message in request.messages:
        total += MESSAGE_OVERHEAD + sum(_block_tokens(block) for block in message.content)
    if request.tool_config is not None:
        total += sum(_tool_tokens(entry) for entry in request.tool_config.tools)
    return max(1, total)
