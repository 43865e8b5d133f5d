"""The real proxy and the clients that talk to it, as the end-to-end tests build them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from entrypoints.app import build_app
from entrypoints.settings import Settings

if TYPE_CHECKING:
    import anthropic

KEY = "nxk-end-to-end-secret"
# The smallest message request, as the end-to-end tests send it.
HELLO: dict[str, Any] = {
    "model": "claude-opus-4.6",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Say hello"}],
}


def proxy_app(endpoint: str, **settings: Any) -> Any:
    """The proxy as ``start`` builds it, sending ``KEY`` to the Nexus at ``endpoint``."""
    return build_app(Settings(api_key=KEY, endpoint_url=endpoint, **settings))


def sdk_client(url: str) -> anthropic.Anthropic:
    """The anthropic SDK against a local proxy, never retrying. Close it (``with``): its
    connection pool holds sockets."""
    import anthropic  # here, not at the top: every worker collects every module, few use it

    return anthropic.Anthropic(base_url=url, api_key="placeholder", max_retries=0)
