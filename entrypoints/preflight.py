"""Start-up checks that run before any banner, so a problem is one line and not a traceback.

Uvicorn finds a busy port only after ``start`` has printed "listening on ..." and the
launch command; binding once here first turns that into one line naming the port.
"""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

from domain.errors import ConfigError


def port_problem(host: str, port: int) -> tuple[str, str] | None:
    """Why the proxy could not listen on ``host``:``port`` and the fix, or ``None`` when it can.

    The socket is bound as uvicorn binds it (``SO_REUSEADDR``, so a port left in
    ``TIME_WAIT`` by the last run counts as free) and closed at once.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use (another nexus-claude-api?)",
                "stop that program or choose another port with --port",
            )
        if exc.errno == errno.EACCES:
            return f"port {port} on {host} needs privileges this user lacks", "choose a port above 1023 with --port"
        # Anything else (an address this machine lacks, no IPv6) is uvicorn's to report.
    return None


def check_port(host: str, port: int) -> None:
    """Raise the one-line ``ConfigError`` of ``port_problem``, if there is one.

    Raises:
        ConfigError: the port is taken or needs privileges.
    """
    problem = port_problem(host, port)
    if problem:
        raise ConfigError("; ".join(problem))


def check_endpoint(endpoint_url: str) -> None:
    """Refuse an endpoint whose port cannot be read (``https://nexus:443x``).

    ``config.check_values`` checks scheme and host; a bad port would otherwise pass
    until the first request, which then fails with Claude Code on the screen.

    Raises:
        ConfigError: the URL's port is not a number from 1 to 65535.
    """
    try:
        port = urlsplit(endpoint_url).port
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError(f"endpoint_url {endpoint_url!r} has a port that is not a number from 1 to 65535")


def check_start(host: str, port: int, endpoint_url: str) -> None:
    """Every start-up check, in the order a user fixes them: the endpoint, then the port.

    Raises:
        ConfigError: the first problem found.
    """
    check_endpoint(endpoint_url)
    check_port(host, port)
