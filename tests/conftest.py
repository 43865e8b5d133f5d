"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.fake_gateway import FakeConverseGateway

if TYPE_CHECKING:
    from tests.support.fake_nexus import FakeNexus

pytest_plugins = ["pytester"]


@pytest.fixture
def gateway() -> FakeConverseGateway:
    """The Nexus port as a fake, for an app built in process with ``create_app``."""
    return FakeConverseGateway()


@pytest.fixture(scope="module")
def nexus_server() -> Iterator[FakeNexus]:
    """One fake AI Nexus for the module; tests take it through ``fake_nexus``."""
    # Imported here: it imports botocore, which the unit tests never need.
    from tests.support.fake_nexus import FakeNexus

    with FakeNexus() as fake:
        yield fake


@pytest.fixture
def fake_nexus(nexus_server: FakeNexus) -> Iterator[FakeNexus]:
    """The module's fake AI Nexus, with nothing recorded or queued yet.

    At teardown the test fails if the fake raised, or if any request it received was one
    Bedrock would reject, unless the test called ``fake_nexus.allow_invalid()``.
    """
    nexus_server.reset()
    yield nexus_server
    if nexus_server.handler_errors:
        pytest.fail(f"fake Nexus raised while serving: {nexus_server.handler_errors!r}")
    invalid = nexus_server.invalid_requests()
    if invalid and not nexus_server.invalid_allowed:
        lines = [f"{r.operation} {r.path}: {error}" for r in invalid for error in r.errors]
        pytest.fail("fake Nexus received requests Bedrock would reject:\n" + "\n".join(lines))
