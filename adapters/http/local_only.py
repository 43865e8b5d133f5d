"""The local-only guard: the proxy serves programs on this machine, or holders of its token."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

import falcon.asgi

from domain.errors import AuthenticationRequiredError, ForbiddenRequestError
from domain.rules.loopback import host_name, is_loopback


class LocalOnly:
    """Serve local programs only (or, bound wider, holders of the access token).

    The proxy spends the user's Nexus key unasked. A web page can POST to 127.0.0.1
    without a CORS preflight (a ``text/plain`` body), and DNS rebinding lets it read the
    answer under its own host name. Browsers always send ``Origin`` on such requests and
    Claude Code never does; rebinding shows in ``Host``, checked on every bind, ``/health``
    included: loopback names, the bind address and the configured ``allowed_hosts`` pass.

    Args:
        allowed_hosts: host names served besides loopback ones (the bind address, names
            from the config file).
        access_token: when set (a bind beyond loopback), every request must carry it as
            ``x-api-key`` or ``Authorization: Bearer``.
        hint: where the user finds the allowed names, for the refusal message.
    """

    def __init__(self, *, allowed_hosts: Iterable[str] = (), access_token: str | None = None, hint: str = "") -> None:
        self._allowed = frozenset(_normal(h) for h in allowed_hosts if h.strip())
        self._token = access_token.encode() if access_token else None
        self._hint = hint

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Refuse web pages (``Origin``), foreign ``Host`` names and, bound wide, a missing token."""
        if req.get_header("Origin"):
            raise ForbiddenRequestError("requests from web pages are not accepted by nexus-claude-api")
        host = req.get_header("Host")
        if host and not self._host_allowed(host):
            raise ForbiddenRequestError(f"host {host!r} is not a name of this proxy; use http://127.0.0.1{self._hint}")
        if self._token is not None and not self._token_given(req):
            raise AuthenticationRequiredError(
                "this proxy is reachable from other machines and needs its access token: send it as "
                "x-api-key or Authorization: Bearer (ANTHROPIC_AUTH_TOKEN in `nexus-claude-api start --claude-code`)"
            )

    def _host_allowed(self, host: str) -> bool:
        return is_loopback(host) or _normal(host) in self._allowed

    def _token_given(self, req: falcon.asgi.Request) -> bool:
        assert self._token is not None
        scheme, _, bearer = (req.get_header("Authorization") or "").partition(" ")
        candidates = [req.get_header("x-api-key") or "", bearer.strip() if scheme.lower() == "bearer" else ""]
        # Constant-time, so the token cannot be guessed byte by byte from response times;
        # both are always compared, so which header was used does not show either.
        matches = [hmac.compare_digest(given.encode("utf-8", "replace"), self._token) for given in candidates]
        return any(matches)


def _normal(host: str) -> str:
    # Compared without port, brackets, case or the trailing dot of a fully qualified name.
    return host_name(host.strip()).lower().rstrip(".")
