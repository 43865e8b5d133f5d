"""End-to-end fixtures: one uvicorn per worker, one fake Nexus per module, a fresh proxy per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.fake_nexus import FakeNexus
from tests.support.proxy import proxy_app, sdk_client
from tests.support.servers import AppServer, app_server

# The SDK is imported where a test uses it, never at the top of a module: every worker
# collects every module, and importing it costs 0.9 s of CPU.
if TYPE_CHECKING:
    import anthropic


@pytest.fixture(scope="session")
def proxy_server() -> Iterator[AppServer]:
    """The uvicorn every test mounts its own proxy on: started once, as stopping one takes
    uvicorn a tenth of a second, which for each module added up to seconds."""
    with app_server() as server:
        yield server


@pytest.fixture
def mount(proxy_server: AppServer) -> Iterator[Callable[[Any], str]]:
    """Serve an ASGI app on the module's uvicorn for this test; returns the base URL."""
    yield proxy_server.mount
    proxy_server.unmount()


@pytest.fixture
def serve_proxy(mount: Callable[[Any], str], fake_nexus: FakeNexus) -> Callable[..., str]:
    """Serve a new proxy with these settings; returns its URL. Nexus is the fake unless
    ``endpoint`` says otherwise."""

    def serve(endpoint: str | None = None, **settings: Any) -> str:
        return mount(proxy_app(endpoint or fake_nexus.url, **settings))

    return serve


@pytest.fixture
def proxy_url(serve_proxy: Callable[..., str], request: pytest.FixtureRequest) -> str:
    """The proxy in front of the fake Nexus, with the test module's ``PROXY_SETTINGS`` if any."""
    return serve_proxy(**getattr(request.module, "PROXY_SETTINGS", {}))


@pytest.fixture
def client(proxy_url: str) -> Iterator[anthropic.Anthropic]:
    with sdk_client(proxy_url) as sdk:
        yield sdk
