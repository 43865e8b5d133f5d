"""Bad input through the real app: a 4xx naming the problem, never a 500 or a Nexus call."""

from __future__ import annotations

import json
import logging
from typing import Any

import falcon.testing
import pytest

from adapters.http.json_limits import MAX_DEPTH
from domain import errors
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_events, text_response
from tests.support.in_process import LocalClient, post_raw, sse_frames

TOOL = {"name": "lookup", "description": "Look a word up.", "input_schema": {"type": "object"}}


def body(*, stream: bool = False, **fields: str) -> bytes:
    """A request as JSON text, each field given as raw JSON (so escapes stay escapes)."""
    parts = {
        "model": '"claude-opus-4.6"',
        "max_tokens": "64",
        "stream": json.dumps(stream),
        "messages": '[{"role": "user", "content": "hi"}]',
        **fields,
    }
    return ("{" + ", ".join(f'"{k}": {v}' for k, v in parts.items()) + "}").encode()


def tool_turns(tool_id: str = '"toolu_1"', name: str = '"lookup"', tool_input: str = "{}") -> str:
    use = f'{{"type": "tool_use", "id": {tool_id}, "name": {name}, "input": {tool_input}}}'
    result = f'{{"type": "tool_result", "tool_use_id": {tool_id}, "content": "ok"}}'
    return (
        f'[{{"role": "user", "content": "look it up"}}, {{"role": "assistant", "content": [{use}]}}, '
        f'{{"role": "user", "content": [{result}]}}]'
    )


@pytest.fixture
def app(gateway: FakeConverseGateway) -> Any:
    return create_app(Settings(api_key="k"), gateway)


@pytest.fixture
def client(app: Any) -> falcon.testing.TestClient:
    return LocalClient(app)


def assert_400(status: int, raw: bytes, *words: str) -> None:
    assert status == 400, raw
    answer = json.loads(raw)
    assert answer["type"] == "error" and answer["error"]["type"] == "invalid_request_error"
    for word in words:
        assert word in answer["error"]["message"]


LONE = r'"\ud800"'
SURROGATE_CASES = [
    ({"model": r'"claude-opus-4.6\uD800"'}, "model"),
    ({"system": r'"be brief \udfff"'}, "system"),
    ({"messages": r'[{"role": "user", "content": "hi \ud83d"}]'}, "messages.0.content"),
    ({"messages": tool_turns(tool_id=r'"toolu_\udc00"'), "tools": json.dumps([TOOL])}, "messages.1.content.0.id"),
    ({"messages": tool_turns(name=r'"look\ud800"'), "tools": json.dumps([TOOL])}, "messages.1.content.0.name"),
    ({"messages": tool_turns(tool_input=r'{"q": "\ud800"}'), "tools": json.dumps([TOOL])}, "input.q"),
    ({"tools": r'[{"name": "t\ud800", "input_schema": {"type": "object"}}]'}, "tools.0.name"),
    ({"metadata": r'{"\ud800": 1}'}, "metadata (a key)"),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("fields", "field"), SURROGATE_CASES)
def test_a_lone_surrogate_anywhere_is_a_400_naming_the_field_before_any_call(
    app: Any, gateway: FakeConverseGateway, stream: bool, fields: dict[str, str], field: str
) -> None:
    status, raw = post_raw(app, body(stream=stream, **fields))
    assert_400(status, raw, field, "lone UTF-16 surrogate")
    assert gateway.calls == []


def test_a_surrogate_encoded_as_utf8_bytes_is_refused_as_invalid_utf8(app: Any, gateway: FakeConverseGateway) -> None:
    # json.loads on bytes would decode these with "surrogatepass" into a lone surrogate.
    status, raw = post_raw(app, body().replace(b'"hi"', b'"hi \xed\xa0\x80"'))
    assert_400(status, raw, "not valid UTF-8")
    assert gateway.calls == []


def test_an_escaped_surrogate_pair_is_one_character(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    result = client.simulate_post(
        "/v1/messages", body=body(messages=r'[{"role": "user", "content": "hi \ud83d\ude00"}]')
    )
    assert result.status_code == 200, result.text
    [(_, _, sent)] = gateway.calls
    text = sent.messages[0].content[0]
    assert isinstance(text, c.TextContent)
    assert text.text == "hi \N{GRINNING FACE}"


def test_a_lone_surrogate_from_nexus_becomes_a_replacement_character(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = lambda _: text_response("broken \ud800 text")
    result = client.simulate_post("/v1/messages", body=body())
    assert result.status_code == 200
    assert result.json["content"] == [{"type": "text", "text": "broken \N{REPLACEMENT CHARACTER} text"}]


def test_a_lone_surrogate_in_a_nexus_error_is_still_answered_as_json(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = refusing("field \udc00 is wrong")
    result = client.simulate_post("/v1/messages", body=body())
    assert result.status_code == 400
    assert result.json["error"]["message"] == "field \N{REPLACEMENT CHARACTER} is wrong"


def test_a_surrogate_pair_split_across_two_deltas_reaches_the_client_joined(
    app: Any, gateway: FakeConverseGateway
) -> None:
    gateway.on_stream = lambda _: text_events("smile \ud83d", "\ude00 and a lost half \ud83d")
    status, raw = post_raw(app, body(stream=True))
    assert status == 200
    events = sse_frames(raw)
    text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    assert text == "smile \N{GRINNING FACE} and a lost half \N{REPLACEMENT CHARACTER}"
    assert [name for name, _ in events][-1] == "message_stop"


def test_a_lone_surrogate_in_a_stream_event_is_replaced_not_fatal(app: Any, gateway: FakeConverseGateway) -> None:
    gateway.on_stream = lambda _: text_events("a \udc00 b", "!")
    status, raw = post_raw(app, body(stream=True))
    events = sse_frames(raw)
    assert status == 200 and events[-1][0] == "message_stop"
    assert "a \N{REPLACEMENT CHARACTER} b" in [d["delta"].get("text") for n, d in events if n == "content_block_delta"]


def nested(depth: int) -> str:
    """A JSON object ``depth`` levels deep (the outermost counts as one)."""
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tools": f'[{{"name": "t", "input_schema": {nested(MAX_DEPTH)}}}]'}, "tools.0.input_schema.a"),
        ({"messages": tool_turns(tool_input=nested(MAX_DEPTH)), "tools": json.dumps([TOOL])}, "messages.1.content.0"),
        ({"metadata": "[" * 500 + "]" * 500}, "metadata.0.0"),
        ({"metadata": "[" * 50_000 + "]" * 50_000}, "request body"),  # past Python's own stack
    ],
)
def test_nesting_past_the_limit_is_a_400_logged_in_one_line_without_a_traceback(
    app: Any, gateway: FakeConverseGateway, caplog: pytest.LogCaptureFixture, fields: dict[str, Any], field: str
) -> None:
    caplog.set_level(logging.INFO)
    status, raw = post_raw(app, body(**fields))
    assert_400(status, raw, "nested too deeply", str(MAX_DEPTH))
    assert field in json.loads(raw)["error"]["message"] or field == "request body"
    assert gateway.calls == []
    [line] = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert "400" in line.getMessage() and line.exc_info is None


def test_nesting_up_to_the_limit_is_accepted(client: falcon.testing.TestClient, gateway: FakeConverseGateway) -> None:
    # The body is level 1, "tools" 2, the tool 3: the schema may take the rest.
    schema = nested(MAX_DEPTH - 3)
    result = client.simulate_post("/v1/messages", body=body(tools=f'[{{"name": "t", "input_schema": {schema}}}]'))
    assert result.status_code == 200, result.text
    assert len(gateway.calls) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"temperature": "1e999"},
        {"top_p": "-1E400"},
        {"messages": tool_turns(tool_input='{"n": 1e309}'), "tools": json.dumps([TOOL])},
        {"tools": '[{"name": "t", "input_schema": {"type": "object", "maximum": 2e308}}]'},
    ],
)
def test_a_number_that_overflows_to_infinity_is_a_400_at_parse_time(
    app: Any, gateway: FakeConverseGateway, fields: dict[str, Any]
) -> None:
    status, raw = post_raw(app, body(**fields))
    assert_400(status, raw, "not valid JSON", "out of range")
    assert gateway.calls == []


@pytest.mark.parametrize(
    "limit", ["\N{SUPERSCRIPT TWO}", "\N{ARABIC-INDIC DIGIT THREE}", "", "0", "1001", "-1", "2.0", "1e2", "x"]
)
def test_models_limit_must_be_ascii_digits_in_range(client: falcon.testing.TestClient, limit: str) -> None:
    result = client.simulate_get("/v1/models", params={"limit": limit})
    assert result.status_code == 400, result.text
    assert result.json["error"] == {
        "type": "invalid_request_error",
        "message": "limit: must be an integer between 1 and 1000",
    }


def test_models_paging_params_take_anything_without_failing(client: falcon.testing.TestClient) -> None:
    for query in ("limit=1", "after_id=%ED%A0%80", "before_id=%FF%FE", "limit=1&limit=2", "after_id=&before_id="):
        result = client.simulate_get("/v1/models", query_string=query)
        assert result.status_code in (200, 400), (query, result.text)
        assert result.json.get("type") != "error" or result.json["error"]["type"] == "invalid_request_error"


def refusing(message: str) -> Any:
    def refuse(_: Any) -> Any:
        raise errors.UpstreamRejectedError(message)

    return refuse


ECHO = "x" * 44_000  # Nexus echoing a large request back in its message


@pytest.mark.parametrize(
    ("message", "reworded"),
    [
        # Recognised in the first 2 KB: reworded in Claude Code's words, the original kept.
        ("Input is too long for requested model. " + ECHO, True),
        # Only past the bound: the regexes never read that far, so it passes unchanged.
        (ECHO + " Input is too long for requested model.", False),
        # Backtracking bait for `max_tokens.*(exceed|context)` over 44 KB: read 2 KB only.
        ("max_tokens " * 4_000, False),
    ],
)
def test_regexes_read_a_bounded_prefix_of_a_large_nexus_message(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway, message: str, reworded: bool
) -> None:
    gateway.on_converse = refusing(message)
    result = client.simulate_post("/v1/messages", body=body())
    assert result.status_code == 400
    answer = result.json["error"]["message"]
    assert answer.startswith("prompt is too long: ") is reworded
    assert message in answer


BIG = "1" + "0" * 400  # a valid JSON integer that no float can hold
TTL_99H = {"type": "ephemeral", "ttl": "99h"}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"temperature": BIG}, ("temperature: number is out of range",)),
        ({"top_p": "-" + BIG}, ("top_p: number is out of range",)),
        (
            {
                "messages": json.dumps(
                    [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": TTL_99H}]}]
                )
            },
            ("messages.0.content.0.cache_control: ttl must be '5m' or '1h'",),
        ),
        ({"messages": '["hi"]'}, ("messages.0: expected an object, got str",)),
        (
            {"messages": '[{"role": "user", "content": [{"type": {"x": 1}}]}]'},
            ("messages.0.content.0.type: expected a string",),
        ),
        ({"tool_choice": '{"type": ["auto"]}'}, ("tool_choice.type: expected a string",)),
    ],
)
def test_values_bedrock_would_refuse_or_python_cannot_hold_are_a_400_naming_the_field(
    app: Any, gateway: FakeConverseGateway, fields: dict[str, str], words: tuple[str, ...]
) -> None:
    status, raw = post_raw(app, body(stream=False, **fields))
    assert_400(status, raw, *words)
    assert gateway.calls == []


def test_both_cache_lifetimes_are_accepted(client: falcon.testing.TestClient, gateway: FakeConverseGateway) -> None:
    for ttl in ("5m", "1h"):
        block = {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": ttl}}
        messages = json.dumps([{"role": "user", "content": [block]}])
        assert client.simulate_post("/v1/messages", body=body(messages=messages)).status_code == 200
    assert len(gateway.calls) == 2
