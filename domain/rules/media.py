"""Bedrock's media limits, met before sending: the newest media kept, older ones stubbed.

Converse takes at most 20 images and documents together per request (tool results
included), at most 5 documents, images up to 3.75 MB and 8000 px a side, documents up to
4.5 MB (pitfalls.md #22). A Claude Code session that reads screenshots or PDFs crosses 20
and from then on every turn fails until ``/compact``. So the oldest media become short
text stubs that say plainly what the model did not see. A block in the newest user turn
that no stub can fix is refused in words Claude Code files as a media error (a location
``messages.N.content.M.image`` plus ``image exceeds``; anthropic.md §4.3).

Sizes come from the base64 text without decoding it: bytes from its length, pixels from
the few header bytes decoded at the offsets a PNG, GIF, WebP or JPEG header needs.
"""

from __future__ import annotations

import binascii
import math
import struct
from collections.abc import Iterator

import attrs

from domain.errors import InvalidRequestError
from domain.vocab import anthropic as a
from domain.vocab import converse as c

MIB = 1024 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers carry the size; C4, C8 and CC are other tables.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset((0x01, *range(0xD0, 0xD9)))
# Enough for any real JPEG's metadata segments; a bound so garbage cannot loop long.
_JPEG_MAX_SEGMENTS = 512

Media = a.ImageBlock | a.DocumentBlock
# Where a medium sits: message, block and, inside a tool result, item (``_Site.key``).
_Key = tuple[int, int, int | None]


@attrs.frozen(kw_only=True)
class MediaLimits:
    """What Bedrock accepts per request (botocore 1.44.8 ``Message.content``; pitfalls.md #22).

    Attributes:
        max_items: images and documents together, tool results included.
        max_documents: documents alone.
        image_bytes: decoded bytes per image (3.75 MiB: Bedrock checks 5 MiB of base64).
        document_bytes: decoded bytes per document.
        image_side: pixels per side of an image.
        many_image_side: pixels per side once a request holds more than ``many_images_above``.
        many_images_above: the image count past which ``many_image_side`` applies.
        stub_batch: older media are stubbed this many at a time, so the stubbed prefix (and
            with it the prompt cache) stays the same for several turns, not one.
    """

    max_items: int = 20
    max_documents: int = 5
    image_bytes: int = 3_932_160
    document_bytes: int = 4_718_592
    image_side: int = 8000
    many_image_side: int = 2000
    many_images_above: int = 20
    stub_batch: int = 5

    def side_limit(self, images: int) -> int:
        """The pixels an image may have per side in a request holding ``images`` images."""
        return self.many_image_side if images > self.many_images_above else self.image_side


BEDROCK_LIMITS = MediaLimits()


@attrs.frozen(kw_only=True)
class MediaFit:
    """The messages with media Bedrock would refuse replaced by text stubs."""

    messages: tuple[a.Message, ...]
    stubbed: int = 0


@attrs.frozen(kw_only=True)
class _Site:
    """Where one image or document sits: message, block and, inside a tool result, item."""

    message: int
    block: int
    item: int | None
    media: Media

    @property
    def kind(self) -> str:
        return "image" if isinstance(self.media, a.ImageBlock) else "document"

    @property
    def location(self) -> str:
        inner = "" if self.item is None else f".tool_result.content.{self.item}"
        return f"messages.{self.message}.content.{self.block}{inner}.{self.kind}"

    @property
    def key(self) -> _Key:
        return (self.message, self.block, self.item)


def _sites(messages: tuple[a.Message, ...]) -> Iterator[_Site]:
    for m, message in enumerate(messages):
        if isinstance(message.content, str):
            continue
        for b, block in enumerate(message.content):
            if type(block) in _MEDIALESS:
                continue
            if isinstance(block, Media):
                yield _Site(message=m, block=b, item=None, media=block)
            elif isinstance(block, a.ToolResultBlock) and not isinstance(block.content, str):
                for k, item in enumerate(block.content):
                    if type(item) is not a.TextBlock and isinstance(item, Media):
                        yield _Site(message=m, block=b, item=k, media=item)


# Blocks that are no medium and hold none, told by class: most of a history.
_MEDIALESS = frozenset({a.TextBlock, a.ToolUseBlock, a.ThinkingBlock, a.RedactedThinkingBlock})


# --- sizes, read from the base64 text --------------------------------------------------


def base64_size(data: str) -> int:
    """The decoded length of unbroken base64 ``data``, without decoding it."""
    padding = 2 if data[-2:] == "==" else 1 if data[-1:] == "=" else 0
    return max(len(data) * 3 // 4 - padding, 0)


def _read(data: str, start: int, length: int) -> bytes:
    # Base64 maps every 3 bytes to 4 characters, so any byte range decodes on its own.
    first = start // 3 * 4
    try:
        raw = binascii.a2b_base64(data[first : (start + length + 2) // 3 * 4])
    except binascii.Error:
        return b""
    return raw[start % 3 : start % 3 + length]


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a" and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: str) -> tuple[int, int] | None:
    offset = 2
    for _ in range(_JPEG_MAX_SEGMENTS):
        segment = _read(data, offset, 9)
        if len(segment) < 2 or segment[0] != 0xFF:
            return None
        marker = segment[1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
        elif marker in _JPEG_STANDALONE:
            offset += 2
        elif marker in _JPEG_SOF:
            if len(segment) < 9:
                return None
            height, width = struct.unpack(">HH", segment[5:9])
            return width, height
        elif len(segment) < 4:
            return None
        else:
            offset += 2 + int.from_bytes(segment[2:4], "big")
    return None


def image_dimensions(data: str) -> tuple[int, int] | None:
    """Width and height of a base64 PNG, GIF, WebP or JPEG, or None if unrecognised."""
    head = _read(data, 0, 32)
    if head[:8] == _PNG and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_size(head)
    return _jpeg_size(data) if head[:2] == b"\xff\xd8" else None


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def _document_size(source: a.DocumentSource) -> int:
    if isinstance(source, a.Base64Source):
        return base64_size(source.data)
    if isinstance(source, a.PlainTextSource):
        return _text_size(source.data)
    if isinstance(source, a.ContentSource):
        parts = (source.content,) if isinstance(source.content, str) else source.content
        return sum(_text_size(p if isinstance(p, str) else p.text) for p in parts if not isinstance(p, a.ImageBlock))
    return 0


def _too_big(kind: str, size: int, limit: int) -> str:
    # Anthropic's own wording, which Claude Code knows: "image exceeds 5 MB maximum: A bytes > B bytes".
    return f"{kind} exceeds the {limit / MIB:g} MB maximum Bedrock allows: {size} bytes > {limit} bytes"


def _oversize(media: Media, limits: MediaLimits, side: int) -> str | None:
    """Why Bedrock would refuse this block whatever else the request holds, if it would."""
    if isinstance(media, a.DocumentBlock):
        size = _document_size(media.source)
        if size > limits.document_bytes:
            return _too_big("document", size, limits.document_bytes)
        return None
    if not isinstance(media.source, a.Base64Source):
        return None
    size = base64_size(media.source.data)
    if size > limits.image_bytes:
        return _too_big("image", size, limits.image_bytes)
    dimensions = image_dimensions(media.source.data)
    if dimensions and max(dimensions) > side:
        width, height = dimensions
        return f"image dimensions exceed the {side} px per side Bedrock allows ({width}x{height} px)"
    return None


# --- choosing what to stub -------------------------------------------------------------


def _label(site: _Site) -> str:
    title = site.media.title if isinstance(site.media, a.DocumentBlock) else None
    return f'document "{title[:80]}"' if title else site.kind


def _stub(site: _Site, why: str, older: bool = True) -> str:
    this = f"this older {site.kind}" if older else f"this {site.kind}"
    return f"[{_label(site)} omitted by nexus-claude-api: {why}; {this} was not sent to the model]"


def _oldest(candidates: list[_Site], excess: int, batch: int, newest: int) -> list[_Site]:
    """The oldest ``excess`` sites, rounded up to ``batch`` but only within older turns."""
    if excess <= 0:
        return []
    older = sum(1 for site in candidates if site.message != newest)
    return candidates[: max(excess, min(math.ceil(excess / batch) * batch, older))]


def _choose_stubs(sites: list[_Site], limits: MediaLimits, newest: int) -> dict[_Key, str]:
    images = sum(1 for site in sites if site.kind == "image")
    side = limits.side_limit(min(images, limits.max_items))
    stubs: dict[_Key, str] = {}
    fitting: list[_Site] = []
    for site in sites:
        problem = _oversize(site.media, limits, side)
        if problem is None:
            fitting.append(site)
        elif site.message == newest:
            raise InvalidRequestError(f"{site.location}: {problem}")
        else:
            stubs[site.key] = _stub(site, problem, older=False)
    documents = [site for site in fitting if site.kind == "document"]
    why = f"Bedrock accepts at most {limits.max_documents} documents per request"
    for site in _oldest(documents, len(documents) - limits.max_documents, 1, newest):
        stubs[site.key] = _stub(site, why)
    fitting = [site for site in fitting if site.key not in stubs]
    why = f"Bedrock accepts at most {limits.max_items} images and documents per request"
    for site in _oldest(fitting, len(fitting) - limits.max_items, limits.stub_batch, newest):
        stubs[site.key] = _stub(site, why)
    return stubs


def _with_stubs(message: a.Message, m: int, stubs: dict[_Key, str]) -> a.Message:
    assert not isinstance(message.content, str)  # only block lists hold media
    blocks: list[a.ContentBlock] = []
    for b, block in enumerate(message.content):
        if (m, b, None) in stubs:
            blocks.append(a.TextBlock(type="text", text=stubs[m, b, None], cache_control=block.cache_control))
        elif isinstance(block, a.ToolResultBlock) and not isinstance(block.content, str):
            items = tuple(
                a.TextBlock(type="text", text=stubs[m, b, k], cache_control=item.cache_control)
                if (m, b, k) in stubs
                else item
                for k, item in enumerate(block.content)
            )
            blocks.append(attrs.evolve(block, content=items))
        else:
            blocks.append(block)
    return attrs.evolve(message, content=tuple(blocks))


def fit_media(messages: tuple[a.Message, ...], limits: MediaLimits = BEDROCK_LIMITS) -> MediaFit:
    """Keep the newest images and documents within ``limits``; stub the older rest.

    Raises:
        InvalidRequestError: a block in the newest user turn is too large in bytes or
            pixels; the message names its location the way Anthropic does.
    """
    sites = list(_sites(messages))
    if not sites:
        return MediaFit(messages=messages)
    newest = max((m for m, message in enumerate(messages) if message.role == "user"), default=-1)
    stubs = _choose_stubs(sites, limits, newest)
    if not stubs:
        return MediaFit(messages=messages)
    touched = {key[0] for key in stubs}
    fitted = tuple(_with_stubs(msg, m, stubs) if m in touched else msg for m, msg in enumerate(messages))
    return MediaFit(messages=fitted, stubbed=len(stubs))


def media_count(messages: tuple[c.Message, ...]) -> int:
    """Images and documents in Converse messages, tool results included."""
    count = 0
    for message in messages:
        for block in message.content:
            if isinstance(block, c.ImageContent | c.DocumentContent):
                count += 1
            elif isinstance(block, c.ToolResultContent):
                count += sum(isinstance(i, c.ImageContent | c.DocumentContent) for i in block.tool_result.content)
    return count
