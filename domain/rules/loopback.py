"""Which addresses mean "this machine only": the one definition the proxy uses.

The bind address decides whether other machines can reach the proxy, and the ``Host``
header whether a request came to it under a local name. Both questions get the same
answer here, so the banner, the app wiring and the ``Host`` check never disagree.
"""

from __future__ import annotations

import functools
import ipaddress


def host_name(host: str) -> str:
    """``host`` without a port or IPv6 brackets: ``[::1]:4141`` -> ``::1``."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# Asked for every request's Host header, nearly always the same few: parsing the address
# again each time was a visible share of the loop's time per request.
@functools.lru_cache(maxsize=256)
def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a ``Host`` header value) is this machine only.

    ``localhost`` and every loopback address (all of 127.0.0.0/8, ``::1``) are; the
    wildcard binds ``0.0.0.0`` and ``::`` are not, since they accept any interface, and
    neither is any other host name, which may resolve to anything.
    """
    name = host_name(host.strip()).lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
