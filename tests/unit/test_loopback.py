"""One definition of "this machine only", for the bind address and the Host header alike."""

from __future__ import annotations

import pytest

from domain.rules.loopback import is_loopback


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("127.0.0.1:4141", True),
        ("::1", True),
        ("[::1]", True),
        ("[::1]:4141", True),
        ("localhost", True),
        ("LOCALHOST:4141", True),
        ("0.0.0.0", False),
        ("::", False),
        ("[::]:4141", False),
        ("192.168.1.20", False),
        ("nexus.example.com", False),
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_loopback_means_this_machine_only(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
