"""Where a streamed event's CPU goes, stage by stage, in this process: µs per event.

The stream path of the server, cut at its seams and timed alone over a 5,000-delta stream
(the bench fake's bytes): reading it from a loopback socket (``RequestsConverseStream.batches``:
HTTP chunks, frames, payloads, domain events and runs), translating (``StreamTranslator``), and
framing as SSE bytes (``sse``); per upstream frame. No event loop and no other thread
compete, so this is the work itself; the server's figures (2) and (5) add the loop, the pipe
and the GIL.

    uv run python bench/per_event.py
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find bench/

import requests

from adapters.http.sse import sse
from adapters.nexus.stream import RequestsConverseStream
from bench.fake_server import STREAM_HEAD, stream_chunks
from domain.to_anthropic.stream import StreamTranslator
from domain.vocab import anthropic as a
from domain.vocab import converse as c

DELTAS = 5000
RUNS = 5


def _serve_once(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        conn.sendall(STREAM_HEAD + b"".join(stream_chunks(DELTAS)) + b"0\r\n\r\n")
        conn.recv(1)  # until the client closes


def read_batches() -> list[list[c.StreamEvent]]:
    """The stream's batches of domain events (a socket read each, deltas gathered into runs),
    read from a loopback socket as the server reads Nexus."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=_serve_once, args=(listener,), daemon=True)
        server.start()
        with requests.Session() as session:
            url = f"http://127.0.0.1:{listener.getsockname()[1]}/model/m/converse-stream"
            response = session.get(url, stream=True)
            stream = RequestsConverseStream(response, "bench")
            try:
                return list(stream.batches())
            finally:
                stream.close()


def translate(batches: list[list[c.StreamEvent]]) -> list[a.StreamEvent]:
    """The Anthropic events of the batches, as the relay makes them."""
    translator = StreamTranslator(tool_names={})
    out = [item for batch in batches for item in translator.feed_all(batch)]
    return out + translator.finish()


def frame(events: list[a.StreamEvent]) -> bytes:
    """The SSE bytes of the events."""
    return b"".join([sse(event) for event in events])


def _best(work: Callable[[], Any]) -> float:
    runs = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    return min(runs)


def main() -> None:
    batches = read_batches()
    translated = translate(batches)
    frames = DELTAS + 4  # messageStart, contentBlockStop, messageStop, metadata
    stages = [
        ("read + decode + parse (socket to domain events)", _best(read_batches)),
        ("translate (StreamTranslator)", _best(lambda: translate(batches))),
        ("sse() framing", _best(lambda: frame(translated))),
    ]
    total = 0.0
    for name, seconds in stages:
        per = seconds / frames * 1e6
        total += per
        print(f"{name:<52} {seconds * 1000:8.2f} ms  {per:6.2f} us/event")
    print(f"{'sum':<52} {'':>11}  {total:6.2f} us/event")


if __name__ == "__main__":
    main()
