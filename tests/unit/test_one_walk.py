"""One walk over a parsed body: its depth and any float orjson made of a long integer."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.http.body import parse_json
from adapters.http.json_limits import MAX_DEPTH, shape


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("leaf", [2.0**63, -(2.0**63), 1e300, -1e19])
def test_a_float_of_2_63_or_more_is_found_at_any_level_within_the_limit(leaf: float) -> None:
    assert shape({"a": _nested(MAX_DEPTH - 2, leaf)}).huge_float


@pytest.mark.parametrize("leaf", [2.0**63 - 1024, -(2.0**63) + 1024, 0.5, 9223372036854775807, "1e400"])
def test_smaller_floats_integers_and_strings_are_not(leaf: Any) -> None:
    found = shape({"a": [leaf, {"b": leaf}]})
    assert not found.huge_float and not found.deep


def test_nesting_past_the_limit_is_deep() -> None:
    assert shape(_nested(MAX_DEPTH, 1)).deep is False
    assert shape(_nested(MAX_DEPTH + 1, 1)).deep is True
    assert shape(5) == shape([]) == shape({})


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 18446744073709551616}',
        '{"n": [1, -9223372036854775809]}',
        '{"deep": {"er": [[123456789012345678901234567890]]}}',
    ],
)
def test_integers_past_64_bits_stay_exact_wherever_they_are(text: str) -> None:
    value = parse_json(text.encode())
    assert "." not in repr(value) and "e+" not in repr(value)


def test_a_float_written_large_is_read_as_json_reads_it() -> None:
    assert parse_json(b'{"t": 1e19, "u": [12345678901234567890.5]}') == {"t": 1e19, "u": [12345678901234567890.5]}
