"""A ConverseStream body read many HTTP chunks per socket read, as through http.client, on real sockets."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.nexus import stream as nexus_stream
from adapters.nexus.chunked import Dechunker
from adapters.nexus.gateway import RequestsConverseGateway
from domain import errors
from domain.vocab import builders
from domain.vocab import converse as c
from tests.support.eventstream_encoding import event_frame, exception_frame

REQUEST = c.ConverseRequest(messages=(c.Message(role="user", content=(c.TextContent(text="hi"),)),))
WAIT = 10
TEXTS = [f"part {i} " for i in range(40)]
FRAMES = [
    event_frame("messageStart", {"role": "assistant"}),
    *(event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}, "p": "abc"}) for t in TEXTS),
    event_frame("contentBlockStop", {"contentBlockIndex": 0}),
    event_frame("messageStop", {"stopReason": "end_turn"}),
    event_frame("metadata", {"usage": {"inputTokens": 3, "outputTokens": 40, "totalTokens": 43}, "metrics": {}}),
]
BODY = b"".join(FRAMES)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunked(pieces: list[bytes], *, extension: bool = False, trailer: bool = False) -> bytes:
    ext = b";name=value" if extension else b""
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(piece), ext, piece) for piece in pieces if piece)
    return out + b"0\r\n" + (b"x-amzn-trailer: 1\r\n" if trailer else b"") + b"\r\n"


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


# --- the dechunker alone ---------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    chunk_cuts=st.lists(st.integers(0, len(BODY)), max_size=12),
    read_cuts=st.data(),
    extension=st.booleans(),
    trailer=st.booleans(),
)
def test_any_chunking_read_any_way_gives_the_body(
    chunk_cuts: list[int], read_cuts: st.DataObject, extension: bool, trailer: bool
) -> None:
    wire = chunked(cut(BODY, chunk_cuts), extension=extension, trailer=trailer)
    reads = cut(wire, read_cuts.draw(st.lists(st.integers(0, len(wire)), max_size=30)))
    body = Dechunker()
    out = b"".join(body.feed(read) for read in reads if read)
    assert out == BODY
    assert body.done
    assert not body.extra


def test_the_body_ends_only_at_the_empty_line_after_the_last_chunk() -> None:
    body = Dechunker()
    wire = chunked([BODY])
    assert body.feed(wire[:-2]) == BODY
    assert not body.done
    body.feed(wire[-2:])
    assert body.done


def test_bytes_after_the_end_are_noticed() -> None:
    body = Dechunker()
    body.feed(chunked([b"abc"]) + b"HTTP/1.1 200 OK")
    assert body.done
    assert body.extra


@pytest.mark.parametrize("size_line", [b"zz", b"-5", b"0x5", b"1_0", b"", b" "])
def test_a_bad_chunk_size_is_a_broken_read(size_line: bytes) -> None:
    with pytest.raises(http.client.IncompleteRead):
        Dechunker().feed(size_line + b"\r\nabcde\r\n")


def test_data_not_followed_by_crlf_is_a_broken_read() -> None:
    with pytest.raises(http.client.IncompleteRead):
        Dechunker().feed(b"3\r\nabcXX")


def test_an_endless_size_line_is_a_broken_read() -> None:
    with pytest.raises(http.client.IncompleteRead):
        Dechunker().feed(b"1" * 5000)


# --- through the gateway, on a socket --------------------------------------------------


class ChunkedNexus:
    """Serves each request on one kept-alive connection with the next scripted body."""

    def __init__(self, replies: list[list[bytes]]) -> None:
        self.replies = replies  # per request: the writes, each sent with its own sendall
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.replies:
            conn, _ = self._listener.accept()
            self.connections += 1
            with conn:
                while self.replies and self._answer(conn):
                    pass
            self.closed.set()

    def _answer(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            if not (more := conn.recv(65536)):
                return False
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(v)
            for k, _, v in (line.partition(b":") for line in head.split(b"\r\n"))
            if k.lower() == b"content-length"
        )
        while len(body) < length:
            body += conn.recv(65536)
        writes = self.replies.pop(0)
        for write in writes:
            conn.sendall(write)
        return writes[-1].endswith(b"\r\n\r\n")  # a reply cut short ends the connection

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def served() -> Iterator[list[ChunkedNexus]]:
    servers: list[ChunkedNexus] = []
    yield servers
    for server in servers:
        server.close()


def _gateway(url: str) -> RequestsConverseGateway:
    return RequestsConverseGateway(endpoint_url=url, api_key="k", connect_timeout=5, read_timeout=5)


def _flat(batch: list[c.StreamEvent]) -> list[c.StreamEvent]:
    """The batch's events with each run as the deltas it stands for."""
    return [d for e in batch for d in (builders.converse_deltas(e) if isinstance(e, c.DeltaRun) else [e])]


def _texts(events: list[c.StreamEvent]) -> list[str]:
    return [
        e.delta.text for e in events if isinstance(e, c.ContentBlockDeltaEvent) and isinstance(e.delta, c.TextChunk)
    ]


def test_frames_split_across_chunks_and_chunks_across_writes_all_arrive(
    served: list[ChunkedNexus], monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = chunked(cut(BODY, list(range(7, len(BODY), 97))), extension=True, trailer=True)
    writes = [HEAD + wire[:5], *cut(wire[5:], list(range(301, len(wire) - 5, 1009)))]
    served.append(server := ChunkedNexus([writes, [HEAD, chunked(FRAMES)]]))
    taken: list[bool] = []
    real = nexus_stream._plain_chunked

    def noting(raw: Any) -> Any:
        taken.append(real(raw) is not None)
        return real(raw)

    monkeypatch.setattr(nexus_stream, "_plain_chunked", noting)
    gateway = _gateway(server.url)
    for _ in range(2):
        with contextlib.closing(gateway.converse_stream("m", REQUEST)) as upstream:
            events = list(upstream)
        assert _texts(events) == TEXTS
        assert isinstance(events[-1], c.MetadataEvent)
    assert taken == [True, True]  # read by the dechunker, not through http.client
    assert server.connections == 1  # each stream read to its end handed the connection back


def test_a_stream_cut_inside_a_chunk_is_a_cut_connection(served: list[ChunkedNexus]) -> None:
    wire = chunked(FRAMES)
    served.append(server := ChunkedNexus([[HEAD + wire[: len(wire) // 2]]]))
    with (
        contextlib.closing(_gateway(server.url).converse_stream("m", REQUEST)) as upstream,
        pytest.raises(errors.UpstreamFailureError, match="was cut"),
    ):
        list(upstream)


def test_bad_chunking_is_a_cut_connection_not_a_crash(served: list[ChunkedNexus]) -> None:
    served.append(server := ChunkedNexus([[HEAD + chunked(FRAMES[:2]).replace(b"\r\n", b"\r\nXX", 2)]]))
    with (
        contextlib.closing(_gateway(server.url).converse_stream("m", REQUEST)) as upstream,
        pytest.raises(errors.UpstreamFailureError, match="was cut"),
    ):
        list(upstream)


def test_events_read_together_with_an_exception_frame_arrive_before_its_error(served: list[ChunkedNexus]) -> None:
    failing = [*FRAMES[:4], exception_frame("throttlingException", "slow down")]
    served.append(server := ChunkedNexus([[HEAD + chunked(failing)]]))
    got: list[c.StreamEvent] = []
    with (
        contextlib.closing(_gateway(server.url).converse_stream("m", REQUEST)) as upstream,
        pytest.raises(errors.UpstreamThrottledError, match="slow down"),
    ):
        for batch in upstream.batches():
            got += _flat(batch)
    assert _texts(got) == TEXTS[:3]


def test_a_read_of_many_frames_is_one_batch(served: list[ChunkedNexus]) -> None:
    served.append(server := ChunkedNexus([[HEAD + chunked(FRAMES)]]))
    with contextlib.closing(_gateway(server.url).converse_stream("m", REQUEST)) as upstream:
        batches = list(upstream.batches())
    # One write of 44 frames comes in a read or two (the head's read may take some), not 44,
    # and the deltas of a read come as one run.
    assert len(batches) <= 2
    assert _texts([event for batch in batches for event in _flat(batch)]) == TEXTS
    runs = [event for batch in batches for event in batch if isinstance(event, c.DeltaRun)]
    assert runs and sum(len(run.pieces) for run in runs) >= len(TEXTS) - 2


def test_a_stream_closed_while_a_read_had_cut_a_chunk_ends_quietly() -> None:
    # The client left after a batch whose read ended inside the next chunk: the reader
    # finishes without an error of its own (the stream was closed on purpose).
    wire = chunked(FRAMES)
    first = len(b"%x\r\n" % len(FRAMES[0])) + len(FRAMES[0]) + 2
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if b"content-length" in line.lower())
            while len(body) < length:
                body += conn.recv(65536)
            conn.sendall(HEAD + wire[: first + 30])  # chunk 1, and 30 bytes of chunk 2
            done.wait(WAIT)

    threading.Thread(target=serve, daemon=True).start()
    try:
        upstream = _gateway(f"http://127.0.0.1:{listener.getsockname()[1]}").converse_stream("m", REQUEST)
        batches = upstream.batches()
        assert [type(event) for event in next(batches)] == [c.MessageStartEvent]
        upstream.close()
        assert list(batches) == []
    finally:
        done.set()
        listener.close()
