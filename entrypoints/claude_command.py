"""``nexus-claude-api claude ARGS``: Claude Code through the proxy, in one command.

The proxy runs in a thread of this process on a free loopback port, logging to its file
only; Claude Code runs as a child with the terminal, the launch environment and ``ARGS``
as given. When Claude Code exits, the proxy stops and its exit status becomes ours.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import uvicorn

from adapters.config_store import JsonConfigStore
from adapters.http.http_parser import HttpToolsProtocol
from domain.errors import ConfigError
from entrypoints import config, launch
from entrypoints.app import build_app
from entrypoints.logs import APP_LOGGER, configure_logging, quiet_console, written_off_thread
from entrypoints.settings import Settings

INSTALL_HINT = (
    "error: Claude Code (`claude`) is not on PATH; install it with `npm install -g @anthropic-ai/claude-code`"
)
# What a shell answers for a command it cannot find.
EXIT_NOT_FOUND = 127

# How long the proxy may take to answer /health, and each attempt's own bound.
_READY_SECONDS = 15.0
_ATTEMPT_SECONDS = 0.5
# Kept from Claude Code: the Nexus key is the proxy's alone (Claude Code's tools, Bash
# among them, would hand it to every command they run), and an exported Anthropic key
# would go out too (x-api-key), for Claude Code to ask about.
_DROPPED = (*config.KEY_ENV_VARS, "ANTHROPIC_API_KEY")
_log = logging.getLogger(f"{APP_LOGGER}.claude")


def main(args: Sequence[str], home: Path, cwd: Path, environ: Mapping[str, str]) -> int:
    """The whole command: find ``claude``, read the settings, log to the file, run.

    Returns the exit status: Claude Code's, or ``EXIT_NOT_FOUND`` without it.

    Raises:
        ConfigError: a setting is missing or bad, or the proxy could not start.
    """
    program = shutil.which("claude", path=environ.get("PATH"))
    if program is None:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_NOT_FOUND
    flags, args = proxy_flags(args)
    store = JsonConfigStore(config.config_path(False, home, cwd))
    settings, _ = config.resolve_settings(flags, store, environ)
    secrets = [settings.api_key, settings.access_token or ""]
    configure_logging(config.log_path(False, home, cwd), settings.verbose, secrets=secrets)
    quiet_console()  # the terminal is Claude Code's
    return run(settings, program, args, environ)


AUTO_MODE_CHECK_FLAG = "--auto-mode-check"


def proxy_flags(args: Sequence[str]) -> tuple[dict[str, bool], list[str]]:
    """The proxy's own leading flag (``--auto-mode-check``), and Claude Code's arguments."""
    if args[:1] == [AUTO_MODE_CHECK_FLAG]:
        return {"auto_mode_check": True}, list(args[1:])
    return {}, list(args)


def run(settings: Settings, program: str, args: Sequence[str], environ: Mapping[str, str]) -> int:
    """Serve the proxy, run ``program ARGS`` against it, stop the proxy; Claude Code's exit status.

    Raises:
        ConfigError: the proxy could not start or did not become healthy.
    """
    # Logging is not the loop's work: written by a thread of its own, all of it on leaving.
    with written_off_thread(), proxy_in_background(settings) as served:
        env = {name: value for name, value in environ.items() if name not in _DROPPED}
        env |= launch.claude_code_env(served)
        _log.info("running Claude Code against %s", launch.local_base_url(served))
        if settings.auto_mode_check:
            _log.info("%s", launch.AUTO_MODE_LINE)
        status = run_child([program, *launch.CLAUDE_ARGS, *args], env)
        _log.info("Claude Code exited with status %d", status)
    return status


def run_child(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``command`` on this terminal until it exits; its status (128 + N for signal N)."""
    process = subprocess.Popen(list(command), env=dict(env))
    while True:
        try:
            status = process.wait()
        except KeyboardInterrupt:
            # Ctrl-C reaches Claude Code too (same process group), which handles it itself:
            # it stops a turn, or asks for a second press to quit. Keep waiting for it.
            continue
        return 128 - status if status < 0 else status


@contextlib.contextmanager
def proxy_in_background(settings: Settings) -> Iterator[Settings]:
    """The proxy served from a thread on a free loopback port; yields its settings.

    Raises:
        ConfigError: the app could not be built, or it never answered ``/health``.
    """
    # Bound before uvicorn starts, so the port is ours and clients may connect at once.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        served = attrs.evolve(settings, host="127.0.0.1", port=sock.getsockname()[1])
        config = uvicorn.Config(
            build_app(served, serving=True),
            log_config=None,  # logging is ours: see entrypoints/logs.py
            access_log=settings.verbose,
            timeout_graceful_shutdown=5,
            http=HttpToolsProtocol,  # as `start` (entrypoints/server.py)
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="proxy", daemon=True)
        thread.start()
        try:
            wait_healthy(launch.local_base_url(served), thread)
            yield served
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    finally:
        sock.close()


def wait_healthy(base_url: str, thread: threading.Thread) -> None:
    """Return once ``GET /health`` says healthy.

    Raises:
        ConfigError: the server thread ended, or no healthy answer came in time.
    """
    deadline = time.monotonic() + _READY_SECONDS
    while time.monotonic() < deadline and thread.is_alive():
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=_ATTEMPT_SECONDS) as answer:
                body = answer.read()
        except urllib.error.HTTPError as exc:
            raise ConfigError(f"the proxy on {base_url} answered /health with {exc.code}") from None
        except OSError:  # not serving yet: each attempt waits its own timeout
            continue
        if _healthy(body):
            return
        raise ConfigError(f"the proxy on {base_url} is not healthy; see the log file")
    raise ConfigError(f"the proxy did not start on {base_url}; see the log file")


def _healthy(body: bytes) -> bool:
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("status") == "healthy"
