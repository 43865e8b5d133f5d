"""Raw probes of the way to AI Nexus, one layer at a time: name, TCP, TLS.

``doctor`` runs them before any call, so that a failure names its layer (a DNS name
that does not resolve, a firewall, a company CA) instead of one "cannot connect".
The TLS probe verifies as ``RequestsConverseGateway`` does: the OS trust store through
``truststore``, unless a CA bundle variable names a file or directory.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs
import truststore

from adapters.nexus.gateway import ca_bundle_var, environ_proxies


class ProbeError(Exception):
    """A probe failed; ``message`` says how, in words for the user."""

    def __init__(self, message: str, *, untrusted: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # The certificate chain did not verify (a company CA, TLS inspection).
        self.untrusted = untrusted


@attrs.frozen(kw_only=True)
class Hop:
    """Where the first TCP connection goes: Nexus itself or the HTTPS proxy in front of it."""

    host: str
    port: int
    proxy: str | None = None


def first_hop(endpoint_url: str, environ: Mapping[str, str]) -> Hop:
    """The host and port a connection to ``endpoint_url`` opens first, proxy variables applied.

    Raises:
        ProbeError: the URL or the proxy URL has no host name or a bad port.
    """
    parts = urlsplit(endpoint_url)
    proxy = _proxy_for(endpoint_url, parts.scheme, environ)
    target = urlsplit(proxy) if proxy else parts
    try:
        port = target.port or (443 if target.scheme == "https" else 80)
    except ValueError as exc:
        raise ProbeError(f"{proxy or endpoint_url} has a bad port") from exc
    if not target.hostname:
        raise ProbeError(f"{proxy or endpoint_url} has no host name")
    return Hop(host=target.hostname, port=port, proxy=f"{target.hostname}:{port}" if proxy else None)


def _proxy_for(url: str, scheme: str, environ: Mapping[str, str]) -> str | None:
    # Exactly as the gateway's session reads them.
    proxies = environ_proxies(url, environ)
    return proxies.get(scheme) or proxies.get("all")


def resolve(host: str, port: int) -> tuple[str, ...]:
    """The addresses ``host`` resolves to, in the resolver's order.

    Raises:
        ProbeError: the name does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ProbeError(f"{host} does not resolve ({_reason(exc)})") from exc
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def connect(host: str, port: int, timeout: float) -> None:
    """Open and close one TCP connection to ``host``:``port``.

    Raises:
        ProbeError: refused, unreachable or timed out.
    """
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except TimeoutError as exc:
        raise ProbeError(f"no TCP connection to {host}:{port} within {timeout:g} s (a firewall?)") from exc
    except OSError as exc:
        raise ProbeError(f"no TCP connection to {host}:{port} ({_reason(exc)})") from exc


def tls_context(environ: Mapping[str, str]) -> tuple[ssl.SSLContext, str | None]:
    """The context the gateway verifies with, and the CA bundle variable in use (if any).

    Raises:
        ProbeError: a CA bundle variable names something that cannot be read.
    """
    var = ca_bundle_var(environ)
    if var is None:
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT), None
    bundle = environ[var]
    try:
        if os.path.isdir(bundle):
            return ssl.create_default_context(capath=bundle), var
        return ssl.create_default_context(cafile=bundle), var
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"the CA bundle {var}={bundle} cannot be read ({_reason(exc)})") from exc


def handshake(host: str, port: int, timeout: float, environ: Mapping[str, str]) -> str:
    """A TLS handshake with ``host``:``port``, verified; returns the TLS version agreed.

    Raises:
        ProbeError: no connection, or the handshake failed; ``untrusted`` when the
            certificate chain did not verify.
    """
    context, _ = tls_context(environ)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            return tls.version() or "TLS"
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or _reason(exc)
        hostname = "hostname" in reason.lower() or "ip address mismatch" in reason.lower()
        raise ProbeError(f"the certificate of {host} is not trusted: {reason}", untrusted=not hostname) from exc
    except ssl.SSLError as exc:
        raise ProbeError(f"the TLS handshake with {host}:{port} failed ({_reason(exc)})") from exc
    except TimeoutError as exc:
        raise ProbeError(f"the TLS handshake with {host}:{port} did not finish within {timeout:g} s") from exc
    except OSError as exc:
        raise ProbeError(f"the TLS handshake with {host}:{port} failed ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
