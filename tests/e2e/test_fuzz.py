"""Property-based: generated and mutated requests through the real app never make a 5xx.

Valid-looking Claude Code requests are generated, then mutated (wrong types, missing or
unknown fields, odd strings, lone surrogates, deep nesting, empty arrays, huge numbers)
and sent as JSON text, streamed or not, to ``/v1/messages`` and ``count_tokens``. Every
answer must be Anthropic-shaped, and whatever reached the fake Nexus must be a request
Bedrock would accept (botocore's model plus the service's own checks).
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.nexus.converse_wire import count_tokens_json, request_json
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.converse_validation import validate_converse_body
from tests.support.fake_gateway import FakeConverseGateway
from tests.support.in_process import post_raw, sse_frames

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "130")),
    deadline=None,
    derandomize=os.environ.get("FUZZ_RANDOM") is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BATCH = 8  # requests per example: 1,040 in all
STATS: dict[str, int] = {}

# --- generated requests ------------------------------------------------------------------

SANE = ["hi", "Read the file", "名前 é \N{GRINNING FACE}", "x" * 5000, "0"]
ODD = ["", " ", "\n", "\x00", "\ud800", "\udfff x", "\ud83d", "\u202e", "-"]
odd_text = st.one_of(st.sampled_from(SANE), st.sampled_from(SANE), st.sampled_from(ODD), st.text(max_size=6))
names = st.one_of(st.sampled_from(["lookup", "Read", "mcp__srv__tool", "x_y-z", "T" * 70]), odd_text)
ids = st.one_of(st.just("toolu_1"), st.just("toolu_2"), names)
schema = st.fixed_dictionaries(
    {"type": st.just("object")},
    optional={
        "properties": st.dictionaries(names, st.just({"type": "string"}), max_size=2),
        "required": st.lists(names, max_size=2),
    },
)
cache_control = st.fixed_dictionaries(
    {"type": st.sampled_from(["ephemeral", "ephemeral", "other"])},
    optional={"ttl": st.sampled_from(["5m", "1h", "99h", ""])},
)
tool = st.fixed_dictionaries(
    {"name": names},
    optional={
        "description": odd_text,
        "input_schema": schema,
        "defer_loading": st.booleans(),
        "cache_control": cache_control,
    },
)
text_block = st.fixed_dictionaries(
    {"type": st.just("text"), "text": odd_text}, optional={"cache_control": cache_control}
)
image_block = st.fixed_dictionaries(
    {
        "type": st.just("image"),
        "source": st.fixed_dictionaries(
            {
                "type": st.just("base64"),
                "media_type": st.sampled_from(["image/png", "image/gif", "text/plain", ""]),
                "data": st.sampled_from(["iVBORw0KGgo=", "not base64!", ""]),
            }
        ),
    }
)
tool_use = st.fixed_dictionaries(
    {"type": st.just("tool_use"), "id": ids, "name": names, "input": st.dictionaries(names, odd_text, max_size=2)}
)
tool_result = st.fixed_dictionaries(
    {"type": st.just("tool_result"), "tool_use_id": ids},
    optional={"content": st.one_of(odd_text, st.lists(text_block, max_size=2)), "is_error": st.booleans()},
)
thinking_block = st.fixed_dictionaries(
    {"type": st.just("thinking"), "thinking": odd_text}, optional={"signature": odd_text}
)
user_content = st.one_of(odd_text, st.lists(st.one_of(text_block, image_block, tool_result), max_size=3))
assistant_content = st.one_of(odd_text, st.lists(st.one_of(text_block, tool_use, thinking_block), max_size=3))


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    turns = draw(st.integers(1, 4))
    roles = ["user" if i % 2 == 0 else "assistant" for i in range(turns)]
    if draw(st.integers(0, 3)) == 0:
        roles = draw(st.lists(st.sampled_from(["user", "assistant", "system"]), min_size=1, max_size=4))
    return [{"role": r, "content": draw(assistant_content if r == "assistant" else user_content)} for r in roles]


requests = st.fixed_dictionaries(
    {
        "model": st.sampled_from(
            ["claude-opus-4.6", "claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022", "gpt-4o"]
        ),
        "messages": conversations(),
        "max_tokens": st.integers(-5, 300_000),
    },
    optional={
        "system": st.one_of(odd_text, st.lists(text_block, max_size=2)),
        "stop_sequences": st.lists(odd_text, max_size=3),
        "temperature": st.floats(-1, 3, allow_nan=False),
        "top_p": st.floats(-1, 2, allow_nan=False),
        "top_k": st.integers(-2, 600),
        "tools": st.lists(tool, max_size=3),
        "tool_choice": st.fixed_dictionaries(
            {"type": st.sampled_from(["auto", "any", "tool", "none", "other"])}, optional={"name": names}
        ),
        "thinking": st.fixed_dictionaries(
            {"type": st.sampled_from(["enabled", "disabled", "adaptive"])},
            optional={"budget_tokens": st.integers(-1, 200_000)},
        ),
        "output_config": st.fixed_dictionaries({}, optional={"effort": st.sampled_from(["low", "high", "max", "x"])}),
        "metadata": st.fixed_dictionaries({}, optional={"user_id": odd_text}),
    },
)

# --- mutations ----------------------------------------------------------------------------

WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
    st.just([]),
    st.just({}),
    st.just({"type": "no_such_block"}),
    st.just([{"type": "audio", "data": "x"}]),
    st.just({"type": "text"}),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if len(path) > 12:  # inside an earlier deep mutation: nothing new to find there
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


def _deep(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels):
        value = {"a": [value]}
    return value


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    # Copies: st.just() hands out one shared object, and mutations must not reach it.
    body = copy.deepcopy(draw(requests))
    for _ in range(max(0, draw(st.integers(-2, 3)))):  # unmutated two times in six
        path = draw(st.sampled_from(_paths(body)))
        if not path:
            continue
        parent: Any = body
        for step in path[:-1]:
            parent = parent[step]
        kind = draw(st.sampled_from(["replace", "delete", "deep", "empty", "unknown_block", "rename"]))
        key = path[-1]
        if kind == "delete" and isinstance(parent, dict):
            del parent[key]
        elif kind == "delete":
            parent.pop(key)
        elif kind == "deep":
            parent[key] = _deep(draw(st.sampled_from([10, 40, 70, 600])))
        elif kind == "empty":
            parent[key] = copy.deepcopy(draw(st.sampled_from([[], {}, ""])))
        elif kind == "unknown_block":
            parent[key] = {
                "type": draw(st.sampled_from(["server_tool_use", "web_search_tool_result", "x", ""])),
                "x": 1,
            }
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(names)] = parent.pop(key)
        else:
            parent[key] = copy.deepcopy(draw(WRONG_VALUES))
    return body


def encode(body: Any, tweak: str) -> bytes:
    """JSON text as a client might send it; ``ensure_ascii`` writes a lone surrogate as
    its ``\\udXXX`` escape, as JavaScript's JSON.stringify does."""
    text = json.dumps(body, ensure_ascii=True)
    if tweak == "huge_number":
        text = text.replace('"max_tokens": ', '"max_tokens": 1e999, "x": ', 1)
        text = text.replace('"temperature": ', '"temperature": -1E400, "y": ', 1)
    elif tweak == "truncate":
        text = text[: len(text) * 2 // 3]
    elif tweak == "big_int":
        field = '"temperature": ' if '"temperature": ' in text else '"max_tokens": '
        text = text.replace(field, field + "1" + "0" * 400 + ', "x": ', 1)
    return text.encode()


# --- the property -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> FakeConverseGateway:
    return FakeConverseGateway()


@pytest.fixture(scope="module")
def app(fake: FakeConverseGateway) -> Any:
    return create_app(Settings(api_key="k"), fake)


def check_upstream(fake: FakeConverseGateway) -> None:
    for operation, model_id, request in fake.calls:
        body = count_tokens_json(request) if operation == "count-tokens" else request_json(request)
        json.dumps(body, ensure_ascii=False).encode("utf-8")  # what the gateway could not send
        errors = validate_converse_body(operation, model_id, body)
        assert errors == [], (operation, errors)
        STATS["reached Nexus"] = STATS.get("reached Nexus", 0) + 1


def check_answer(status: int, raw: bytes, streamed: bool) -> None:
    assert status < 500, raw[:2000]
    STATS[str(status)] = STATS.get(str(status), 0) + 1
    if status >= 400:
        answer = json.loads(raw)
        assert answer["type"] == "error" and set(answer["error"]) == {"type", "message"}
        assert isinstance(answer["error"]["type"], str) and isinstance(answer["error"]["message"], str)
    elif streamed:
        events = sse_frames(raw)
        assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
    else:
        answer = json.loads(raw)
        assert answer.get("type") == "message" or "input_tokens" in answer


cases = st.tuples(
    mutated(),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["none"] * 6 + ["huge_number", "truncate", "big_int"]),
)


def send_one(
    app: Any, fake: FakeConverseGateway, body: dict[str, Any], stream: bool, counting: bool, tweak: str
) -> None:
    fake.calls.clear()
    fake.streams.clear()
    if not counting:
        body["stream"] = stream
    path = "/v1/messages/count_tokens" if counting else "/v1/messages"
    status, raw = post_raw(app, encode(body, tweak), path)
    check_answer(status, raw, streamed=stream and not counting and status == 200)
    check_upstream(fake)
    STATS["requests"] = STATS.get("requests", 0) + 1


# Requests come in batches: Hypothesis's own bookkeeping per example costs more than the
# app's answer, and a batch keeps the whole run within a few seconds.
@FUZZ
@given(batch=st.lists(cases, min_size=BATCH, max_size=BATCH))
def test_no_request_makes_a_5xx_or_reaches_nexus_malformed(
    app: Any, fake: FakeConverseGateway, batch: list[tuple[dict[str, Any], bool, bool, str]]
) -> None:
    for case in batch:
        send_one(app, fake, *case)


def test_a_normal_request_works_after_the_fuzzing(app: Any, fake: FakeConverseGateway) -> None:
    fake.calls.clear()
    hello = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    status, raw = post_raw(app, json.dumps(hello).encode())
    assert status == 200 and json.loads(raw)["content"] == [{"type": "text", "text": "Hello!"}]
    status, raw = post_raw(app, json.dumps({**hello, "stream": True}).encode())
    assert status == 200 and sse_frames(raw)[-1][0] == "message_stop"
    assert len(fake.calls) == 2
    print("fuzz stats:", dict(sorted(STATS.items())))  # shown with -s
