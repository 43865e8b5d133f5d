"""orjson first for request bodies and Converse bodies; json's careful path where it must decide."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest

from adapters.http.body import JsonMedia, parse_json
from adapters.http.json_limits import MAX_DEPTH, nests_deeper, too_deep
from adapters.nexus.json_body import LARGE, JsonBody, holds_large, json_bytes
from domain.errors import InvalidRequestError


def nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def test_a_plain_body_reads_as_json_reads_it() -> None:
    text = '{"model": "m", "t": 0.5, "n": -3, "ok": true, "none": null, "s": "h\\u00e9 \\ud83d\\ude00", "a": [1, {}]}'
    assert parse_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize("number", [10**30, -(10**19), 18446744073709551616, 12345678901234567890123])
def test_integers_past_64_bits_stay_exact_integers(number: int) -> None:
    # orjson would read these as floats; the body takes json's path instead.
    value = parse_json(f'{{"input": {{"n": {number}}}}}'.encode())
    assert value["input"]["n"] == number and type(value["input"]["n"]) is int


def test_a_byte_order_mark_is_still_accepted() -> None:
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"t": NaN}', "not valid JSON"),
        (b'{"t": 1e999}', "out of range"),
        (b'{"t": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"t": "\xed\xa0\x80"}', "not valid UTF-8"),
        (b'{"t": ', "not valid JSON"),
        (orjson.dumps(nested(MAX_DEPTH + 1)), "nested too deeply"),
        (b"[" * 2000 + b"]" * 2000, "nested too deeply"),
    ],
    ids=["nan", "overflow", "lone-surrogate", "encoded-surrogate", "cut", "depth", "past-orjson-depth"],
)
def test_what_is_refused_is_refused_with_the_same_words(raw: bytes, words: str) -> None:
    with pytest.raises(InvalidRequestError, match=words):
        parse_json(raw)


def test_the_deepest_body_allowed_is_read() -> None:
    assert parse_json(orjson.dumps(nested(MAX_DEPTH))) == nested(MAX_DEPTH)


@pytest.mark.parametrize("depth", [0, 1, 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100])
def test_the_cheap_depth_test_agrees_with_the_walk_that_names_the_field(depth: int) -> None:
    for value in (nested(depth), {"a": [nested(depth)], "b": "x"}):
        assert nests_deeper(value, MAX_DEPTH) == (too_deep(value) is not None)


def test_the_media_handler_reads_with_the_body_rules() -> None:
    media = JsonMedia()
    assert media.deserialize(_Stream(b'{"a": [1]}'), "application/json", None) == {"a": [1]}
    for raw in (b"NaN", b'"\\udfff"', orjson.dumps(nested(MAX_DEPTH + 1))):
        with pytest.raises(InvalidRequestError):
            media.deserialize(_Stream(raw), "application/json", None)


def test_the_media_handler_writes_compact_utf8_and_never_fails_on_a_surrogate() -> None:
    media = JsonMedia()
    assert (
        media.serialize({"t": "é", "n": 10**30}, "application/json")
        == '{"t":"é","n":1000000000000000000000000000000}'.encode()
    )
    assert media.serialize({"t": "a\ud800"}, "application/json") == '{"t":"a\ufffd"}'.encode()


class _Stream:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int | None = None) -> bytes:
        return self._data


def test_a_compact_converse_body_is_what_orjson_writes() -> None:
    body = {"messages": [{"content": [{"text": 'quote " é \u2028'}]}], "inferenceConfig": {"temperature": 0.5}}
    assert json_bytes(body, compact=True) == orjson.dumps(body)


def test_a_compact_body_with_an_integer_past_64_bits_is_written_exactly() -> None:
    body = {"toolConfig": {"n": 10**30, "t": "é"}}
    assert json_bytes(body, compact=True) == '{"toolConfig":{"n":1000000000000000000000000000000,"t":"é"}}'.encode()


def test_a_compact_body_with_large_strings_is_read_slice_by_slice() -> None:
    big = base64.b64encode(bytes(range(256)) * (LARGE // 128)).decode()
    body = {"messages": [{"content": [{"image": {"source": {"bytes": big}}}, {"text": "é"}]}], "other": big[::-1]}
    sent = json_bytes(body, compact=True)
    assert isinstance(sent, JsonBody)
    expected = orjson.dumps(body)
    assert len(sent) == len(expected)
    assert b"".join(iter(lambda: sent.read(7919), b"")) == expected
    sent.seek(len(expected) // 3)
    assert b"".join(iter(lambda: sent.read(65536), b"")) == expected[len(expected) // 3 :]


def test_tool_schemas_are_not_searched_for_large_strings_and_still_sent_whole() -> None:
    body = {"messages": [{"content": [{"text": "hi"}]}], "toolConfig": {"tools": [{"description": "d" * LARGE}]}}
    assert json_bytes(body, compact=True) == orjson.dumps(body)  # one piece, not slice by slice


def test_large_strings_are_found_at_any_depth_and_only_there() -> None:
    assert not holds_large({"a": ["x" * (LARGE - 1), {"b": 1}], "c": None})
    assert holds_large({"a": [{"b": [{"c": "x" * LARGE}]}]})
    assert holds_large(["x" * LARGE])


@pytest.mark.parametrize("offset", [0, 1, (1 << 20) - 10, (1 << 20) - 1, 1 << 20, (1 << 20) + 3])
def test_a_long_integer_is_seen_wherever_it_falls_in_a_large_body(offset: int) -> None:
    number = 10**25 + 7
    padding = "x" * offset
    value = parse_json(f'{{"p": "{padding}", "n": {number}}}'.encode())
    assert value["n"] == number and type(value["n"]) is int


def test_long_digit_runs_inside_strings_keep_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import adapters.http.body as body

    def careful(_: str) -> Any:
        raise AssertionError("json's path was taken")

    monkeypatch.setattr(body, "_careful", careful)
    text = '{"messages": [{"content": "build 12345678901234567890123 at 2026-01-01T00:00:00.1234567890123456789Z"}]}'
    assert parse_json(text.encode()) == json.loads(text)
