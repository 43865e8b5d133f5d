"""A TLS stream whose frames came a record each is read as far as it has arrived, not a record per read.

TLS hands over one record per read, and a server may well write each event-stream frame as
a record of its own. Frames that have all arrived must come out as one batch (one wait,
one hand-on to the loop), as they do over plain TCP.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import trustme

from adapters.nexus.stream import RequestsConverseStream
from domain.vocab import builders
from domain.vocab import converse as c
from tests.support.eventstream_encoding import event_frame

DELTAS = 50
WAIT = 5
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\nTransfer-Encoding: chunked\r\n\r\n"


def _frames() -> list[bytes]:
    usage = {"inputTokens": 1, "outputTokens": DELTAS, "totalTokens": DELTAS + 1}
    return [
        event_frame("messageStart", {"role": "assistant"}),
        *(
            event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": f"{i} "}})
            for i in range(DELTAS)
        ),
        event_frame("contentBlockStop", {"contentBlockIndex": 0}),
        event_frame("messageStop", {"stopReason": "end_turn"}),
        event_frame("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}),
    ]


class RecordByRecord:
    """One HTTPS exchange: a ConverseStream answer written a TLS record per frame.

    ``held`` frames are written, then ``written`` is set; the rest wait for ``release``.
    """

    def __init__(self, context: ssl.SSLContext, held: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held = held
        self.written, self.release, self._done = threading.Event(), threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(context,), daemon=True)
        self._thread.start()

    def _serve(self, context: ssl.SSLContext) -> None:
        conn, _ = self._listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            request = b""
            while b"\r\n\r\n" not in request:
                request += tls.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            found = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            while found is not None and len(body) < int(found[1]):
                body += tls.recv(65536)
            tls.sendall(HEAD)
            frames = _frames()
            for frame in frames[: self._held]:
                tls.sendall(b"%X\r\n%s\r\n" % (len(frame), frame))  # one record each
            self.written.set()
            self.release.wait(WAIT)
            for frame in frames[self._held :]:
                tls.sendall(b"%X\r\n%s\r\n" % (len(frame), frame))
            tls.sendall(b"0\r\n\r\n")
            self._done.wait(WAIT)

    def close(self) -> None:
        self.release.set()
        self._done.set()
        self._thread.join(WAIT)
        self._listener.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[int], tuple[RecordByRecord, str]]]:
    """Starts a ``RecordByRecord`` holding after so many frames; its URL's CA bundle too."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    started: list[RecordByRecord] = []

    def start(held: int) -> tuple[RecordByRecord, str]:
        started.append(RecordByRecord(context, held))
        return started[-1], str(bundle)

    yield start
    for served in started:
        served.close()


def _open(served: RecordByRecord, bundle: str, session: requests.Session) -> RequestsConverseStream:
    url = f"https://127.0.0.1:{served.port}/model/m/converse-stream"
    response = session.post(url, data=b"{}", stream=True, verify=bundle, timeout=WAIT)
    assert served.written.wait(WAIT)  # the frames before the hold are all in before the first read
    return RequestsConverseStream(response, "127.0.0.1")


def _texts(batch: list[c.StreamEvent]) -> str:
    """The text of a batch's deltas, a run's or a lone one's."""
    deltas = [one for e in batch for one in (builders.converse_deltas(e) if isinstance(e, c.DeltaRun) else [e])]
    return "".join(
        e.delta.text for e in deltas if isinstance(e, c.ContentBlockDeltaEvent) and isinstance(e.delta, c.TextChunk)
    )


def test_frames_already_arrived_come_out_in_one_batch(serve: Callable[[int], tuple[RecordByRecord, str]]) -> None:
    served, bundle = serve(len(_frames()))
    with requests.Session() as session:
        stream = _open(served, bundle, session)
        batches = list(stream.batches())
        stream.close()
    assert len(batches) == 1
    assert _texts(batches[0]) == "".join(f"{i} " for i in range(DELTAS))


def test_reading_what_has_arrived_never_waits_for_what_has_not(
    serve: Callable[[int], tuple[RecordByRecord, str]],
) -> None:
    served, bundle = serve(10)  # messageStart and nine deltas, then Nexus holds
    with requests.Session() as session:
        stream = _open(served, bundle, session)
        batches = stream.batches()
        first: list[list[c.StreamEvent]] = []
        reader = threading.Thread(target=lambda: first.append(next(batches)), daemon=True)
        reader.start()
        reader.join(WAIT)  # a bound for a failure, not a wait for success: it is back at once
        assert first, "the first batch waited for frames Nexus had not sent"
        served.release.set()
        rest = list(batches)
        stream.close()
    assert _texts(first[0]) == "".join(f"{i} " for i in range(9))
    assert _texts([event for batch in rest for event in batch]) == "".join(f"{i} " for i in range(9, DELTAS))
