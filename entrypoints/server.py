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
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from adapters.http.disconnect import ShutdownSignal
from adapters.http.traffic import TrafficLog
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


def serve(settings: Settings) -> None:
    """Run the proxy in the foreground until SIGINT (Ctrl-C) or SIGTERM; then exit cleanly."""
    # Imported here so `config` commands and early failures stay fast and do not depend
    # on the server stack.
    import uvicorn

    from entrypoints.app import build_app

    shutdown = ShutdownSignal()
    traffic = TrafficLog()
    config = uvicorn.Config(
        build_app(settings, shutdown, traffic),
        host=settings.host,
        port=settings.port,
        log_config=None,  # logging is ours: see entrypoints/logs.py
        access_log=settings.verbose,
        timeout_graceful_shutdown=GRACE,
    )
    _uvicorn_server()(config, shutdown).run()
    # What the session spent, once the last stream has ended.
    print(traffic.summary(), file=sys.stderr, flush=True)
