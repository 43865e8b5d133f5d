"""orjson where it pays, with json's careful path kept for what orjson refuses."""

from __future__ import annotations

from adapters.http.json_limits import to_json_bytes
from adapters.nexus.stream_events import _json


def test_compact_answers_are_compact_utf8() -> None:
    assert to_json_bytes({"text": "héllo ✓", "n": [1, 2.5]}, compact=True) == '{"text":"héllo ✓","n":[1,2.5]}'.encode()


def test_a_lone_surrogate_still_becomes_a_replacement_character() -> None:
    assert to_json_bytes({"text": "a\ud800b"}, compact=True) == '{"text":"a\ufffdb"}'.encode()


def test_integers_past_64_bits_are_written_exactly() -> None:
    assert to_json_bytes({"n": 10**30}, compact=True) == b'{"n":1000000000000000000000000000000}'


def test_event_payloads_orjson_refuses_are_read_as_json_reads_them() -> None:
    assert _json(b'{"text":"a\\ud800b"}') == {"text": "a\ud800b"}
    assert _json(b'{"delta":{"text":"hi"}}') == {"delta": {"text": "hi"}}
