"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_nexus import FakeNexus

pytest_plugins = ["pytester"]


@pytest.fixture
def fake_nexus() -> Iterator[FakeNexus]:
    """A running fake AI Nexus.

    At teardown the test fails if the fake raised, or if any request it received was one
    Bedrock would reject, unless the test called ``fake_nexus.allow_invalid()``.
    """
    with FakeNexus() as fake:
        yield fake
    if fake.handler_errors:
        pytest.fail(f"fake Nexus raised while serving: {fake.handler_errors!r}")
    invalid = fake.invalid_requests()
    if invalid and not fake.invalid_allowed:
        lines = [f"{r.operation} {r.path}: {error}" for r in invalid for error in r.errors]
        pytest.fail("fake Nexus received requests Bedrock would reject:\n" + "\n".join(lines))
