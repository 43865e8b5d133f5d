"""Serving the proxy in the foreground, and stopping it cleanly on SIGINT or SIGTERM.

Stopping, in order: the signal begins the app's ``ShutdownSignal`` (open streams end with
an SSE ``error`` event and a terminated body, pending non-streamed requests answer a JSON
503, every connection to Nexus is shut down, so calls still waiting for a first byte end
too), then uvicorn stops accepting, closes idle connections and waits for the answers to
be written, at most ``GRACE`` seconds. The process then exits with status 0: uvicorn's own
signal handling would raise the signal again once stopped (a ``KeyboardInterrupt``
traceback for Ctrl-C, status -15 for SIGTERM). A second signal stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from adapters.http.disconnect import ShutdownSignal
from adapters.http.traffic import TrafficLog
from entrypoints.cpu_affinity import keep_to_one_cpu
from entrypoints.logs import written_off_thread
from entrypoints.settings import Settings

log = logging.getLogger("nexus_claude_api")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Seconds uvicorn waits for answers still being written: well inside the 3 s a stop may take.
GRACE = 1


def _uvicorn_server() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn whose signals begin the app's shutdown and are not raised again."""

        def __init__(self, config: uvicorn.Config, shutdown: ShutdownSignal) -> None:
            super().__init__(config)
            self._shutdown = shutdown
            self._loop: asyncio.AbstractEventLoop | None = None

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            """Handle SIGINT and SIGTERM while serving; restore the old handlers after."""
            if threading.current_thread() is not threading.main_thread():
                yield  # signals reach the main thread only
                return
            self._loop = asyncio.get_running_loop()
            previous = {sig: signal.signal(sig, self._on_signal) for sig in SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        def _on_signal(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit:
                self.force_exit = True  # a second signal: stop without waiting
                return
            log.info("%s received: stopping", signal.Signals(sig).name)
            self.should_exit = True
            # Run on the loop, not inside the signal handler: it wakes futures.
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._shutdown.begin)

    return Server


def fast_or(module: str, fallback: str) -> str:
    """``module``'s name when it can be imported here, else ``fallback`` (uvicorn's names)."""
    return module if importlib.util.find_spec(module) is not None else fallback


def serve(settings: Settings) -> None:
    """Run the proxy in the foreground until SIGINT (Ctrl-C) or SIGTERM; then exit cleanly."""
    # Imported here so `config` commands and early failures stay fast and do not depend
    # on the server stack.
    import uvicorn

    from adapters.http.http_parser import HttpToolsProtocol
    from entrypoints.app import build_app

    if settings.one_cpu:
        cpu = keep_to_one_cpu()  # before any pool or logging thread starts: they inherit it
        log.debug("threads kept to CPU %d" if cpu is not None else "threads not kept to one CPU", cpu)
    shutdown = ShutdownSignal()
    traffic = TrafficLog()
    config = uvicorn.Config(
        build_app(settings, shutdown, traffic, serving=True),
        host=settings.host,
        port=settings.port,
        log_config=None,  # logging is ours: see entrypoints/logs.py
        access_log=settings.verbose,
        timeout_graceful_shutdown=GRACE,
        # httptools (C) parses HTTP/1.1 for a fraction of h11's loop time; its own 400s (an
        # HTTP/2 preface) are answered in Anthropic's shape by HttpToolsProtocol. uvloop: the
        # loop thread's share of a 100 KB request is about a third lower. It is not built
        # for every platform (Windows): asyncio's own loop there.
        http=HttpToolsProtocol,
        loop=fast_or("uvloop", "asyncio"),
        # Nothing stands between Claude Code and this proxy: X-Forwarded-* would only be a
        # local program's claim, and reading them is a middleware pass on every request.
        proxy_headers=False,
    )
    with written_off_thread():  # logging is not the loop's work; all written on leaving
        _uvicorn_server()(config, shutdown).run()
    # What the session spent, once the last stream has ended and its line is written.
    print(traffic.summary(), file=sys.stderr, flush=True)
