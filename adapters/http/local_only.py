"""The local-only guard: the proxy serves programs on this machine, not web pages."""

from __future__ import annotations

import falcon.asgi

from domain.errors import ForbiddenRequestError
from domain.rules.loopback import is_loopback


class LocalOnly:
    """Serve local programs only, since the proxy spends the user's Nexus key unasked.

    A web page can POST to 127.0.0.1 without a CORS preflight (a ``text/plain`` body), and
    DNS rebinding lets it read the answer under its own host name. Browsers always send
    ``Origin`` on such requests and Claude Code never does; rebinding shows in ``Host``.
    The ``Host`` check applies only while bound to loopback (``check_host``).
    """

    def __init__(self, *, check_host: bool) -> None:
        self._check_host = check_host

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Refuse requests from web pages (``Origin``) and, on loopback, for foreign hosts."""
        if req.get_header("Origin"):
            raise ForbiddenRequestError("requests from web pages are not accepted by nexus-claude-api")
        host = req.get_header("Host")
        if self._check_host and host and not is_loopback(host):
            raise ForbiddenRequestError(f"host {host!r} is not this machine; use http://127.0.0.1")
