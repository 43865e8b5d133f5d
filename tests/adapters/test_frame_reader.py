"""A chunked ConverseStream body read frame by frame: the one-pass walk reads what the general way reads.

``FrameReader`` finds the frames of chunks that are exactly one frame each (Bedrock's way)
in one pass, and hands anything else to ``Dechunker`` and ``EventStreamDecoder``. Whatever
the chunking, the reads and any damage, it must give the same frames, in the same reads,
and fail the same way, as the general way alone.
"""

from __future__ import annotations

import http.client
import itertools
import struct
import zlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.nexus.chunked import Dechunker, FrameReader
from adapters.nexus.eventstream import EventStreamDecoder, Message
from domain.errors import UpstreamFailureError
from tests.support.eventstream_encoding import event_frame, exception_frame

FRAMES = [
    event_frame("messageStart", {"role": "assistant"}),
    *(event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": f"part {i} "}}) for i in range(12)),
    exception_frame("throttlingException", "slow down"),
    event_frame("metadata", {"usage": {"inputTokens": 3, "outputTokens": 12, "totalTokens": 15}, "metrics": {}}),
]
Outcome = tuple[list[list[Message]], str | None]


def one_per_chunk(frames: list[bytes]) -> bytes:
    return b"".join(b"%X\r\n%s\r\n" % (len(frame), frame) for frame in frames) + b"0\r\n\r\n"


def read_all(feed: Callable[[bytes], list[Message]], finish: Callable[[], None], reads: list[bytes]) -> Outcome:
    """The frames of each read, and the error that stopped them, by its type and message."""
    out: list[list[Message]] = []
    try:
        for data in reads:
            out.append(feed(data))
        finish()
    except (UpstreamFailureError, http.client.IncompleteRead) as error:
        return out, f"{type(error).__name__}: {error}"
    return out, None


def both_ways(reads: list[bytes]) -> tuple[Outcome, Outcome]:
    reader = FrameReader()
    body, decoder = Dechunker(), EventStreamDecoder()
    general = read_all(lambda data: decoder.messages(body.feed(data)), decoder.finish, reads)
    return read_all(reader.feed, reader.finish, reads), general


def assert_same(fast: Outcome, general: Outcome) -> None:
    """The same frames and the same error; a frame may come one read later, never earlier.

    The walk takes a chunk once its closing CRLF has come, and holds a chunk cut by the
    read until it is whole; the general way decodes a frame, or finds it corrupt, as soon
    as its own bytes are in. When the HTTP framing itself breaks, the connection is lost
    either way: a frame whose chunk never closed may then be missing before the error.
    """
    frames, expected = [m for read in fast[0] for m in read], [m for read in general[0] for m in read]
    assert fast[1] == general[1]
    if fast[1] is not None and fast[1].startswith("IncompleteRead"):
        assert frames == expected[: len(frames)] and len(frames) >= len(expected) - 1
        return
    assert frames == expected
    # After each read, the frames so far: at least the general way's after the read before.
    fast_counts = [0, *itertools.accumulate(len(read) for read in fast[0])]
    general_counts = [0, *itertools.accumulate(len(read) for read in general[0])]
    # The general way may stop at an error reads before the walk does (it sees a bad prelude
    # before the chunk is whole): past its last read, its count is its last.
    last = len(general_counts) - 1
    for after, count in enumerate(fast_counts[1:], start=1):
        assert general_counts[min(after - 1, last)] <= count <= general_counts[min(after, last)]


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` as socket reads: none of them empty (an empty read is the end)."""
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:end] for start, end in zip(bounds, bounds[1:], strict=False) if end > start]


def damaged(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]


@settings(max_examples=150, deadline=None)
@given(
    frames=st.lists(st.sampled_from(FRAMES), min_size=1, max_size=10),
    split=st.lists(st.integers(1, 400), max_size=3),
    reads=st.data(),
)
def test_any_chunking_read_any_way_gives_the_frames_the_general_way_gives(
    frames: list[bytes], split: list[int], reads: st.DataObject
) -> None:
    body = b"".join(frames)
    # Chunks of one frame each (Bedrock's), then, from a random point, chunks cut anywhere.
    whole = len(frames) // 2
    rest = b"".join(frames[whole:])
    chunked = one_per_chunk(frames[:whole])[: -len(b"0\r\n\r\n")]
    chunked += b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in cut(rest, split) if piece) + b"0\r\n\r\n"
    read_cuts = reads.draw(st.lists(st.integers(0, len(chunked)), max_size=8))
    fast, general = both_ways(cut(chunked, read_cuts))
    assert_same(fast, general)
    assert [payload for read in fast[0] for _, payload in read] == [
        payload for _, payload in EventStreamDecoder().messages(body)
    ]


@settings(max_examples=150, deadline=None)
@given(at=st.integers(0, len(one_per_chunk(FRAMES)) - 1), reads=st.data())
def test_a_damaged_byte_fails_as_it_fails_the_general_way_after_the_same_frames(at: int, reads: st.DataObject) -> None:
    chunked = damaged(one_per_chunk(FRAMES), at)
    read_cuts = reads.draw(st.lists(st.integers(0, len(chunked)), max_size=4))
    assert_same(*both_ways(cut(chunked, read_cuts)))


def test_a_bad_prelude_the_general_way_sees_reads_sooner_still_fails_the_same() -> None:
    # Found by Hypothesis: byte 133 is the second frame's headers length, and its chunk comes
    # in three reads. The walk holds the chunk until it is whole; the general way fails on
    # the frame's prelude as soon as it is in.
    chunked = damaged(one_per_chunk(FRAMES), 133)
    fast, general = both_ways(cut(chunked, [123, 141, 142]))
    assert len(fast[0]) > len(general[0])
    assert_same(fast, general)


def test_frames_of_one_chunk_each_are_found_in_one_read() -> None:
    messages = FrameReader().feed(one_per_chunk(FRAMES))
    assert messages == EventStreamDecoder().messages(b"".join(FRAMES))


@pytest.mark.parametrize("where", ["prelude", "message"])
def test_a_frame_whose_checksum_is_wrong_is_never_taken(where: str) -> None:
    frame = FRAMES[1]
    at = 9 if where == "prelude" else len(frame) - 6  # a byte the prelude or message checksum covers
    chunk = b"%X\r\n%s\r\n" % (len(frame), damaged(frame, at))
    reader = FrameReader()
    with pytest.raises(UpstreamFailureError, match=f"{where} checksum mismatch"):
        reader.feed(one_per_chunk(FRAMES[:1]).removesuffix(b"0\r\n\r\n") + chunk)
        reader.feed(b"")


def test_a_prelude_checksum_its_sender_got_wrong_is_refused_though_the_message_checksum_is_right() -> None:
    # Damage cannot make this frame (the message CRC covers the prelude's); a buggy encoder can.
    frame = bytearray(FRAMES[1][:-4])
    frame[8:12] = bytes(4)
    crafted = bytes(frame) + struct.pack(">I", zlib.crc32(frame))
    chunked = one_per_chunk([FRAMES[0], crafted])
    fast, general = both_ways([chunked])
    assert (
        fast[1]
        == general[1]
        == "UpstreamFailureError: Nexus sent a corrupt event-stream frame: prelude checksum mismatch"
    )
    assert_same(fast, general)


def test_a_chunk_cut_by_a_read_comes_out_with_the_read_that_completes_it() -> None:
    chunked = one_per_chunk(FRAMES[:3])
    middle_of_second = len(one_per_chunk(FRAMES[:1])) + 20
    reader = FrameReader()
    first, second = reader.feed(chunked[:middle_of_second]), reader.feed(chunked[middle_of_second:])
    assert (first, second) == (
        [*EventStreamDecoder().messages(FRAMES[0])],
        EventStreamDecoder().messages(b"".join(FRAMES[1:3])),
    )
    assert reader.done
