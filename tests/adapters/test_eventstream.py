"""The event-stream decoder, checked against botocore's ``EventStreamBuffer`` as the oracle."""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from botocore.eventstream import (
    ChecksumMismatch,
    DuplicateHeader,
    EventStreamBuffer,
    InvalidHeadersLength,
    InvalidPayloadLength,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.nexus.eventstream import EventStreamDecoder, Frame, decode_frames
from domain.errors import UpstreamFailureError
from tests.support.eventstream_encoding import (
    encode_frame,
    encode_headers,
    event_frame,
    exception_frame,
)

CORRUPT = "Nexus sent a corrupt event-stream frame: "

CONVERSE_FRAMES = [
    event_frame("messageStart", {"role": "assistant"}),
    event_frame(
        "contentBlockDelta",
        {"contentBlockIndex": 0, "delta": {"text": "Hi \u00e9\u6f22"}, "p": "abcdefgh"},
    ),
    event_frame("contentBlockStop", {"contentBlockIndex": 0}),
    event_frame("messageStop", {"stopReason": "end_turn"}),
    event_frame(
        "metadata",
        {"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {}},
    ),
    exception_frame("throttlingException", "Too many tokens, please wait."),
    # An unmodeled error frame: no content type, empty payload.
    encode_frame(
        [
            (":error-code", 7, "InternalFailure"),
            (":error-message", 7, "boom"),
            (":message-type", 7, "error"),
        ],
        b"",
    ),
]
CONVERSE_STREAM = b"".join(CONVERSE_FRAMES)


def oracle(data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def typed(pairs: Iterable[tuple[Any, bytes]]) -> list[tuple[dict[str, Any], bytes]]:
    """Pairs with each header value tagged by its type, since ``True == 1`` would hide a bug."""
    return [({name: (type(value), value) for name, value in headers.items()}, payload) for headers, payload in pairs]


def decoded(frames: Iterable[Frame]) -> list[tuple[dict[str, Any], bytes]]:
    return typed((dict(frame.headers), frame.payload) for frame in frames)


def prelude(total: int, headers_length: int) -> bytes:
    """A prelude with a valid checksum, whatever its lengths claim."""
    lengths = struct.pack(">II", total, headers_length)
    return lengths + struct.pack(">I", zlib.crc32(lengths))


def with_crc(data: bytes) -> bytes:
    return data + struct.pack(">I", zlib.crc32(data))


def raw_frame(headers: bytes) -> bytes:
    """A frame with valid lengths and checksums around arbitrary header bytes."""
    return with_crc(prelude(16 + len(headers), len(headers)) + headers)


def flip(data: bytes, index: int) -> bytes:
    corrupted = bytearray(data)
    corrupted[index] ^= 0x01
    return bytes(corrupted)


# --- well-formed streams -------------------------------------------------------------------


def test_the_documented_worked_frame_decodes() -> None:
    payload = b'{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"}'
    frame = encode_frame(
        [
            (":event-type", 7, "contentBlockDelta"),
            (":content-type", 7, "application/json"),
            (":message-type", 7, "event"),
        ],
        payload,
    )
    assert frame[:12].hex() == "0000009f00000057c37babff"
    assert frame[-4:].hex() == "f2ace5ff"

    [decoded_frame] = decode_frames([frame])

    assert decoded_frame.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert decoded_frame.payload == payload


def test_converse_event_and_exception_frames_match_botocore() -> None:
    frames = list(decode_frames([CONVERSE_STREAM]))

    assert decoded(frames) == typed(oracle(CONVERSE_STREAM))
    assert frames[5].headers[":exception-type"] == "throttlingException"
    assert frames[6].payload == b""


def test_several_frames_in_one_chunk_all_come_out() -> None:
    decoder = EventStreamDecoder()

    assert len(decoder.feed(CONVERSE_STREAM)) == len(CONVERSE_FRAMES)
    decoder.finish()


def test_a_split_at_any_byte_gives_the_same_frames() -> None:
    expected = typed(oracle(CONVERSE_STREAM))

    for cut in range(len(CONVERSE_STREAM) + 1):
        chunks = [CONVERSE_STREAM[:cut], CONVERSE_STREAM[cut:]]
        assert decoded(decode_frames(chunks)) == expected, f"split at byte {cut}"


def test_one_byte_at_a_time_each_frame_comes_out_on_its_last_byte() -> None:
    decoder = EventStreamDecoder()
    frames: list[Frame] = []
    completed_at: list[int] = []
    for offset in range(len(CONVERSE_STREAM)):
        new = decoder.feed(CONVERSE_STREAM[offset : offset + 1])
        frames += new
        completed_at += [offset + 1] * len(new)
    decoder.finish()

    assert completed_at == list(itertools.accumulate(map(len, CONVERSE_FRAMES)))
    assert decoded(frames) == typed(oracle(CONVERSE_STREAM))


def test_decode_frames_yields_before_reading_the_next_chunk() -> None:
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        for index, frame in enumerate(CONVERSE_FRAMES[:3]):
            read.append(index)
            yield frame

    frames = decode_frames(chunks())

    next(frames)
    assert read == [0]


def test_a_large_frame_fed_byte_by_byte_decodes() -> None:
    # Re-copying the buffer on every byte would move some 5 GB here, not 100 kB.
    frame = encode_frame([(":message-type", 7, "event")], bytes(range(256)) * 400)
    decoder = EventStreamDecoder()

    frames = [out for i in range(len(frame)) for out in decoder.feed(frame[i : i + 1])]

    assert decoded(frames) == typed(oracle(frame))


def test_frame_headers_are_read_only() -> None:
    [frame] = decode_frames([CONVERSE_FRAMES[0]])

    with pytest.raises(TypeError):
        frame.headers[":event-type"] = "messageStop"  # type: ignore[index]


# --- property tests against botocore -------------------------------------------------------

INT_RANGES = {2: 7, 3: 15, 4: 31, 5: 63, 8: 63}
VALUES: dict[int, st.SearchStrategy[Any]] = {
    0: st.just(True),
    1: st.just(False),
    **{code: st.integers(-(2**bits), 2**bits - 1) for code, bits in INT_RANGES.items()},
    6: st.binary(max_size=40),
    7: st.text(max_size=40),
    9: st.binary(min_size=16, max_size=16),
}
typed_value = st.sampled_from(sorted(VALUES)).flatmap(lambda code: VALUES[code].map(lambda value: (code, value)))
header_sets = st.dictionaries(st.text(max_size=12), typed_value, max_size=8).map(
    lambda headers: [(name, code, value) for name, (code, value) in headers.items()]
)
frame_lists = st.lists(st.builds(encode_frame, header_sets, st.binary(max_size=120)), min_size=1, max_size=4)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=60, deadline=None)
@given(frames=frame_lists, data=st.data())
def test_any_headers_and_chunking_decode_like_botocore(frames: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(frames)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))

    assert decoded(decode_frames(chunked(stream, cuts))) == typed(oracle(stream))


@settings(max_examples=60, deadline=None)
@given(frames=frame_lists, data=st.data())
def test_a_flipped_byte_fails_after_the_frames_before_it(frames: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(frames)
    index = data.draw(st.integers(0, len(stream) - 1))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    intact = oracle(stream[:index])  # the frames wholly before the damaged byte
    decoder = EventStreamDecoder()
    out: list[Frame] = []

    # CRC-32 catches every single-byte error, so the damaged frame can never slip through.
    with pytest.raises(UpstreamFailureError, match=CORRUPT):
        for chunk in chunked(flip(stream, index), cuts):
            out += decoder.feed(chunk)
        decoder.finish()

    assert decoded(out) == typed(intact)


@settings(max_examples=150, deadline=None)
@given(headers=st.binary(max_size=40))
def test_arbitrary_header_bytes_fail_cleanly_or_decode_like_botocore(headers: bytes) -> None:
    frame = raw_frame(headers)
    try:
        expected = typed(oracle(frame))
    except Exception:  # botocore fails in many ways here: KeyError, struct.error, ...
        expected = None

    try:
        result = decoded(decode_frames([frame]))
    except UpstreamFailureError as error:
        assert error.message.startswith(CORRUPT)
    else:
        assert result == expected


@settings(max_examples=100, deadline=None)
@given(noise=st.binary(max_size=300), data=st.data())
def test_random_bytes_raise_nothing_but_upstream_failure(noise: bytes, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(noise)), max_size=10))

    try:
        list(decode_frames(chunked(noise, cuts)))
    except UpstreamFailureError as error:
        assert error.message.startswith(CORRUPT)


# --- corrupt frames --------------------------------------------------------------------------

GOOD = CONVERSE_FRAMES[1]
HEADERS_LIMIT = 128 * 1024
PAYLOAD_LIMIT = 24 * 1024 * 1024

# (frame, the reason we give, what botocore does with it: an exception type, or None when
# it quietly accepts a frame we refuse).
CORRUPTIONS = {
    "prelude checksum": (flip(GOOD, 10), "prelude checksum mismatch", ChecksumMismatch),
    "length field": (flip(GOOD, 2), "prelude checksum mismatch", ChecksumMismatch),
    "payload byte": (flip(GOOD, -10), "message checksum mismatch", ChecksumMismatch),
    "message checksum": (flip(GOOD, -1), "message checksum mismatch", ChecksumMismatch),
    "length 0": (prelude(0, 0) + bytes(4), "shorter than the prelude", struct.error),
    "length 12": (prelude(12, 0), "shorter than the prelude", None),
    "length 15": (prelude(15, 0) + bytes(3), "shorter than the prelude", ChecksumMismatch),
    "headers past frame": (
        with_crc(prelude(20, 8) + bytes(4)),
        "headers are longer than the frame",
        DuplicateHeader,
    ),
    "headers over limit": (
        prelude(16 + HEADERS_LIMIT + 1, HEADERS_LIMIT + 1),
        "bytes of headers exceed the limit",
        InvalidHeadersLength,
    ),
    "payload over limit": (
        prelude(16 + PAYLOAD_LIMIT + 1, 0),
        "bytes of payload exceed the limit",
        InvalidPayloadLength,
    ),
    "unknown header type": (raw_frame(b"\x01a\x0a"), "unknown header type 10", KeyError),
    "name past section": (raw_frame(b"\x05ab"), "runs past", struct.error),
    "type past section": (raw_frame(b"\x01a"), "runs past", struct.error),
    "int32 past section": (raw_frame(b"\x01a\x04\x00\x00"), "runs past", struct.error),
    "length past section": (raw_frame(b"\x01a\x06\x00"), "runs past", struct.error),
    "string past section": (raw_frame(b"\x01a\x07\x00\x10abc"), "runs past", None),
    "uuid past section": (raw_frame(b"\x01a\x09" + bytes(15)), "runs past", None),
    "duplicate header": (
        raw_frame(encode_headers([("a", 7, "x"), ("a", 4, 1)])),
        "duplicate header 'a'",
        DuplicateHeader,
    ),
    "bad utf-8 value": (raw_frame(b"\x01a\x07\x00\x01\xff"), "not valid UTF-8", UnicodeError),
    "bad utf-8 name": (raw_frame(b"\x01\xff\x00"), "not valid UTF-8", UnicodeError),
}


@pytest.mark.parametrize(("frame", "reason", "botocore_error"), CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_frame_is_an_upstream_failure(
    frame: bytes, reason: str, botocore_error: type[Exception] | None
) -> None:
    # The over-limit frames are only a prelude: their lengths are refused without a body.
    with pytest.raises(UpstreamFailureError, match=f"^{CORRUPT}.*{reason}"):
        EventStreamDecoder().feed(frame)

    if botocore_error is None:
        oracle(frame)  # botocore accepts it; we are deliberately stricter
    else:
        with pytest.raises(botocore_error):
            oracle(frame)


def test_a_frame_at_the_size_limits_is_awaited_not_refused() -> None:
    decoder = EventStreamDecoder()

    assert decoder.feed(prelude(16 + HEADERS_LIMIT + PAYLOAD_LIMIT, HEADERS_LIMIT)) == []
    with pytest.raises(UpstreamFailureError, match="ended inside a frame"):
        decoder.finish()


def test_frames_before_a_corrupt_one_come_out_then_it_fails() -> None:
    decoder = EventStreamDecoder()

    frames = decoder.feed(CONVERSE_FRAMES[0] + flip(GOOD, -1) + CONVERSE_FRAMES[2])

    assert decoded(frames) == typed(oracle(CONVERSE_FRAMES[0]))
    with pytest.raises(UpstreamFailureError, match="message checksum mismatch"):
        decoder.feed(CONVERSE_FRAMES[3])
    with pytest.raises(UpstreamFailureError, match="message checksum mismatch"):
        decoder.finish()


def test_decode_frames_yields_the_intact_frames_before_failing() -> None:
    frames = decode_frames([CONVERSE_FRAMES[0] + flip(GOOD, 10)])

    assert next(frames).headers[":event-type"] == "messageStart"
    with pytest.raises(UpstreamFailureError, match="prelude checksum mismatch"):
        next(frames)


# --- the end of the stream -------------------------------------------------------------------


@pytest.mark.parametrize("cut", [1, 11, 12, 13, len(GOOD) - 1])
def test_finish_inside_a_frame_fails(cut: int) -> None:
    decoder = EventStreamDecoder()
    decoder.feed(CONVERSE_FRAMES[0] + GOOD[:cut])

    with pytest.raises(UpstreamFailureError, match=f"ended inside a frame \\({cut} bytes"):
        decoder.finish()


def test_decode_frames_fails_on_a_cut_stream_after_yielding_whole_frames() -> None:
    frames = decode_frames([CONVERSE_STREAM[:-1]])

    whole = [next(frames) for _ in CONVERSE_FRAMES[:-1]]

    assert decoded(whole) == typed(oracle(CONVERSE_STREAM[:-1]))
    with pytest.raises(UpstreamFailureError, match="ended inside a frame"):
        next(frames)


@pytest.mark.parametrize("chunks", [[], [b""], [CONVERSE_STREAM], [CONVERSE_STREAM, b""]])
def test_finish_on_a_frame_boundary_is_quiet(chunks: list[bytes]) -> None:
    decoder = EventStreamDecoder()
    for chunk in chunks:
        decoder.feed(chunk)

    decoder.finish()
