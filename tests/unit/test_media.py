"""Bedrock's media limits met before sending: newest media kept, older ones stubbed."""

from __future__ import annotations

import base64
import re
import struct

import pytest

from domain.errors import InvalidRequestError
from domain.rules.media import (
    BEDROCK_LIMITS,
    MediaLimits,
    base64_size,
    fit_media,
    image_dimensions,
    media_count,
)
from domain.vocab import anthropic as a
from domain.vocab import converse as c


def png(width: int = 4, height: int = 3, padding: int = 0) -> bytes:
    ihdr = struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0" + b"\0" * padding


def jpeg(width: int, height: int, app_bytes: int = 0) -> bytes:
    app = b"\xff\xe1" + struct.pack(">H", app_bytes + 2) + b"E" * app_bytes  # an EXIF-sized APP1
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app + b"\xff\xdb\x00\x04\x00\x00" + sof + b"\xff\xd9"


def webp(chunk: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def image(data: bytes = b"", media_type: str = "image/png") -> a.ImageBlock:
    source = a.Base64Source(type="base64", media_type=media_type, data=b64(data or png()))
    return a.ImageBlock(type="image", source=source)


def pdf(size: int = 10, title: str | None = None) -> a.DocumentBlock:
    source = a.Base64Source(type="base64", media_type="application/pdf", data=b64(b"%PDF" + b"\0" * size))
    return a.DocumentBlock(type="document", source=source, title=title)


def text(value: str) -> a.TextBlock:
    return a.TextBlock(type="text", text=value)


def user(*blocks: a.ContentBlock) -> a.Message:
    return a.Message(role="user", content=blocks)


def assistant(value: str = "ok") -> a.Message:
    return a.Message(role="assistant", content=(text(value),))


def tool_result(*items: a.ToolResultItem) -> a.ToolResultBlock:
    return a.ToolResultBlock(type="tool_result", tool_use_id="t1", content=items)


def conversation(turns: list[a.Message]) -> tuple[a.Message, ...]:
    """User turns with an assistant reply between each, ending on the last user turn."""
    out: list[a.Message] = []
    for turn in turns:
        out.extend((turn, assistant()))
    return tuple(out[:-1])


def media_left(messages: tuple[a.Message, ...]) -> list[a.ImageBlock | a.DocumentBlock]:
    found: list[a.ImageBlock | a.DocumentBlock] = []
    for message in messages:
        for block in message.content:
            if isinstance(block, a.ImageBlock | a.DocumentBlock):
                found.append(block)
            elif isinstance(block, a.ToolResultBlock) and not isinstance(block.content, str):
                found.extend(i for i in block.content if isinstance(i, a.ImageBlock | a.DocumentBlock))
    return found


def stubs(messages: tuple[a.Message, ...]) -> list[str]:
    found: list[str] = []
    for message in messages:
        for block in message.content:
            assert not isinstance(block, str)
            items = block.content if isinstance(block, a.ToolResultBlock) else (block,)
            found.extend(i.text for i in items if isinstance(i, a.TextBlock) and "omitted by nexus" in i.text)
    return found


# --- sizes from the base64 text ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (png(10, 20), (10, 20)),
        (b"GIF89a" + struct.pack("<HH", 640, 480) + b"\0" * 8, (640, 480)),
        (jpeg(1920, 1080), (1920, 1080)),
        (jpeg(9000, 50, app_bytes=60_000), (9000, 50)),  # SOF after a 60 KB EXIF segment
        (webp(b"VP8X", b"\0" * 4 + (799).to_bytes(3, "little") + (599).to_bytes(3, "little")), (800, 600)),
        (webp(b"VP8 ", b"\0\0\0\x9d\x01\x2a" + struct.pack("<HH", 1024, 768) + b"\0" * 4), (1024, 768)),
        (webp(b"VP8L", b"\x2f" + (299 | (199 << 14)).to_bytes(4, "little") + b"\0" * 4), (300, 200)),
    ],
)
def test_image_dimensions_from_the_header(data: bytes, size: tuple[int, int]) -> None:
    assert image_dimensions(b64(data + b"\0" * 100)) == size


@pytest.mark.parametrize("data", [b"not an image at all", b"\xff\xd8\x00\x00garbage", b""])
def test_unrecognised_images_have_no_dimensions(data: bytes) -> None:
    assert image_dimensions(b64(data)) is None


def test_invalid_base64_has_no_dimensions() -> None:
    assert image_dimensions("!!!") is None


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 5, 1000, 1001, 1002])
def test_base64_size_is_the_decoded_length(length: int) -> None:
    assert base64_size(b64(b"x" * length)) == length


# --- the 20 images and documents per request --------------------------------------------


def test_a_request_within_the_limits_is_returned_unchanged() -> None:
    messages = conversation([user(image(), text(f"shot {i}")) for i in range(20)])
    fit = fit_media(messages)
    assert fit.messages is messages and fit.stubbed == 0


def test_twenty_five_screenshots_keep_the_newest_twenty() -> None:
    messages = conversation([user(image(png(i + 1, 1)), text(f"shot {i}")) for i in range(25)])
    fit = fit_media(messages)
    assert fit.stubbed == 5 and len(fit.messages) == len(messages)
    kept = [image_dimensions(block.source.data) for block in media_left(fit.messages)]  # type: ignore[union-attr]
    assert kept == [(i + 1, 1) for i in range(5, 25)]
    for old in fit.messages[0:10:2]:
        assert not isinstance(old.content, str)
        stub, caption = old.content
        assert isinstance(stub, a.TextBlock) and caption == old.content[1]
        assert stub.text == (
            "[image omitted by nexus-claude-api: Bedrock accepts at most 20 images and documents per request; "
            "this older image was not sent to the model]"
        )


def test_one_over_stubs_a_batch_so_the_cached_prefix_holds_for_several_turns() -> None:
    for count in range(21, 26):
        fit = fit_media(conversation([user(image(), text("x")) for _ in range(count)]))
        assert fit.stubbed == 5 and len(media_left(fit.messages)) == count - 5


def test_media_in_the_newest_turn_are_not_stubbed_by_the_batch() -> None:
    messages = conversation([user(image()), user(*(image() for _ in range(21)))])
    fit = fit_media(messages)
    # 22 in all: the batch would stub 5, but only one is older, so one of the newest goes too.
    assert fit.stubbed == 2 and media_left(fit.messages[:1]) == [] and len(media_left(fit.messages)) == 20


def test_tool_result_images_count_and_are_stubbed_inside_the_tool_result() -> None:
    read = a.Message(role="user", content=(tool_result(image(), text("screenshot.png")),))
    messages = conversation([read, *(user(image()) for _ in range(20))])
    fit = fit_media(messages)
    block = fit.messages[0].content[0]
    assert isinstance(block, a.ToolResultBlock) and block.tool_use_id == "t1"
    assert not isinstance(block.content, str)
    stub, caption = block.content
    assert (
        isinstance(stub, a.TextBlock)
        and "this older image was not sent" in stub.text
        and caption == text("screenshot.png")
    )


def test_a_stub_keeps_the_blocks_cache_breakpoint() -> None:
    cached = a.ImageBlock(type="image", source=image().source, cache_control=a.CacheControl())
    fit = fit_media(conversation([user(cached), *(user(image()) for _ in range(20))]))
    stub = fit.messages[0].content[0]
    assert isinstance(stub, a.TextBlock) and stub.cache_control == a.CacheControl()


# --- documents ----------------------------------------------------------------------------


def test_documents_count_toward_twenty_and_at_most_five_are_kept() -> None:
    messages = conversation([user(text("read"), pdf(title=f"report {i}")) for i in range(7)])
    fit = fit_media(messages)
    assert fit.stubbed == 2 and len(media_left(fit.messages)) == 5
    assert stubs(fit.messages) == [
        f'[document "report {i}" omitted by nexus-claude-api: Bedrock accepts at most 5 documents per request; '
        "this older document was not sent to the model]"
        for i in range(2)
    ]


def test_images_and_documents_share_the_twenty() -> None:
    messages = conversation([*(user(image()) for _ in range(18)), user(text("a"), pdf()), user(text("b"), pdf())])
    assert fit_media(messages).stubbed == 0
    fit = fit_media((*messages, assistant(), user(image())))
    assert fit.stubbed == 5 and len(media_left(fit.messages)) == 16


# --- blocks no stub can fix ---------------------------------------------------------------


BIG = b"\0" * (BEDROCK_LIMITS.image_bytes + 1)


@pytest.mark.parametrize(
    ("block", "location", "phrase"),
    [
        (
            image(png(padding=len(BIG))),
            "messages.2.content.1.image",
            "image exceeds the 3.75 MB maximum Bedrock allows: 3932194 bytes > 3932160 bytes",
        ),
        (image(png(9000, 600)), "messages.2.content.1.image", "image dimensions exceed the 8000 px per side"),
        (image(jpeg(100, 8001), "image/jpeg"), "messages.2.content.1.image", "(100x8001 px)"),
        (
            pdf(size=BEDROCK_LIMITS.document_bytes),
            "messages.2.content.1.document",
            "document exceeds the 4.5 MB maximum Bedrock allows: 4718596 bytes > 4718592 bytes",
        ),
        (
            tool_result(text("x"), image(png(9000, 600))),
            "messages.2.content.1.tool_result.content.1.image",
            "image dimensions exceed",
        ),
    ],
)
def test_an_oversize_block_in_the_newest_turn_is_refused_as_a_media_error(
    block: a.ContentBlock, location: str, phrase: str
) -> None:
    messages = conversation([user(image()), user(text("look"), block)])
    with pytest.raises(InvalidRequestError) as caught:
        fit_media(messages)
    assert caught.value.message.startswith(f"{location}: ") and phrase in caught.value.message
    # Claude Code files it as a media error by the location or by these phrases (anthropic.md §4.3).
    assert re.search(
        r"messages\.\d+\.content\.\d+(\.tool_result\.content\.\d+)?\.(image|document)", caught.value.message
    )


def test_an_older_oversize_block_is_stubbed_and_the_turn_goes_through() -> None:
    messages = conversation([user(text("old"), image(png(9000, 600))), user(text("new"), image())])
    fit = fit_media(messages)
    assert fit.stubbed == 1 and len(media_left(fit.messages)) == 1
    assert stubs(fit.messages) == [
        "[image omitted by nexus-claude-api: image dimensions exceed the 8000 px per side Bedrock allows "
        "(9000x600 px); this image was not sent to the model]"
    ]


def test_the_many_image_side_limit_applies_past_its_threshold() -> None:
    limits = MediaLimits(max_items=30)
    big = image(png(3000, 100))
    messages = conversation([user(big), *(user(image()) for _ in range(21))])
    fit = fit_media(messages, limits)
    assert fit.stubbed == 1 and "2000 px per side" in stubs(fit.messages)[0]
    with pytest.raises(InvalidRequestError, match="image dimensions exceed the 2000 px"):
        fit_media((*messages[2:], assistant(), user(big)), limits)
    assert fit_media(conversation([user(big), user(image())]), limits).stubbed == 0


def test_non_base64_sources_are_left_for_the_translator_to_refuse() -> None:
    url = a.ImageBlock(type="image", source=a.UrlSource(type="url", url="https://example.com/x.png"))
    assert fit_media((user(url),)).stubbed == 0


def test_a_large_image_is_measured_without_decoding_it() -> None:
    # 60 MB of base64 that is not valid past its header: decoding it would fail or take long.
    data = b64(png(100, 100)) + "A" * 60_000_000
    block = a.ImageBlock(type="image", source=a.Base64Source(type="base64", media_type="image/png", data=data))
    with pytest.raises(InvalidRequestError, match="image exceeds"):
        fit_media((user(block),))


def test_media_count_counts_converse_images_and_documents_in_tool_results() -> None:
    img = c.ImageContent(image=c.Image(format="png", source=c.BytesSource(bytes=b"x")))
    doc = c.DocumentContent(document=c.Document(format="pdf", name="d", source=c.BytesSource(bytes=b"x")))
    result = c.ToolResultContent(tool_result=c.ToolResult(tool_use_id="t", content=(img, c.TextContent(text="t"))))
    assert media_count((c.Message(role="user", content=(img, doc, result)),)) == 3
