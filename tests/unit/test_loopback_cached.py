"""The loopback answer for a Host header is worked out once, and stays the same answer."""

from __future__ import annotations

import pytest

from domain.rules.loopback import is_loopback


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1:4141", True), ("[::1]:4141", True), ("localhost.", True), ("0.0.0.0", False), ("example.com", False)],
)
def test_asking_twice_gives_the_same_answer_from_the_cache(host: str, local: bool) -> None:
    first = is_loopback(host)
    hits = is_loopback.cache_info().hits
    assert (first, is_loopback(host)) == (local, local)
    assert is_loopback.cache_info().hits == hits + 1
