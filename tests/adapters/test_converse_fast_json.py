"""Messages and tool configs written the short way are the JSON cattrs writes, key order included."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.nexus import converse_wire
from domain.vocab import converse as c

GENERAL = converse_wire.make_converter(fast=False)
FAST = converse_wire.make_converter()

TEXT = st.text(max_size=5)
MAYBE = st.none() | TEXT
JSON: st.SearchStrategy[Any] = st.one_of(
    st.dictionaries(TEXT, st.integers() | TEXT, max_size=2),
    st.lists(st.integers(), max_size=2),
    st.tuples(st.integers()),
    TEXT,
    st.none(),
)
CACHE_POINT = st.builds(lambda ttl: c.CachePointContent(cache_point=c.CachePoint(ttl=ttl)), MAYBE)
TEXT_BLOCK = st.builds(c.TextContent, text=TEXT)
IMAGE = st.builds(
    lambda data: c.ImageContent(image=c.Image(format="png", source=c.BytesSource(bytes=data))), st.binary(max_size=4)
)
ITEM = st.one_of(TEXT_BLOCK, IMAGE, st.builds(c.JsonContent, json=JSON))
BLOCK = st.one_of(
    TEXT_BLOCK,
    CACHE_POINT,
    IMAGE,
    st.builds(
        lambda i, n, data: c.ToolUseContent(tool_use=c.ToolUse(tool_use_id=i, name=n, input=data)), TEXT, TEXT, JSON
    ),
    st.builds(
        lambda i, items, status: c.ToolResultContent(
            tool_result=c.ToolResult(tool_use_id=i, content=items, status=status)
        ),
        TEXT,
        st.lists(ITEM, max_size=3).map(tuple),
        st.sampled_from([None, "success", "error"]),
    ),
    st.builds(
        lambda text, signature: c.ReasoningContent(
            reasoning_content=c.ReasoningTextContent(reasoning_text=c.ReasoningText(text=text, signature=signature))
        ),
        TEXT,
        MAYBE,
    ),
    st.builds(
        lambda data: c.ReasoningContent(reasoning_content=c.RedactedReasoningContent(redacted_content=data)),
        st.binary(max_size=4),
    ),
)
MESSAGE = st.builds(
    c.Message, role=st.sampled_from(["user", "assistant"]), content=st.lists(BLOCK, max_size=4).map(tuple)
)
SPEC = st.builds(
    lambda name, schema, description: c.ToolSpecEntry(
        tool_spec=c.ToolSpec(name=name, input_schema=c.InputSchema(json=schema), description=description)
    ),
    TEXT,
    st.dictionaries(TEXT, TEXT, max_size=2),
    MAYBE,
)
CHOICE = st.sampled_from([None, c.AutoChoice(), c.AnyChoice(), c.SpecificChoice(tool=c.NamedTool(name="Read"))])
TOOL_CONFIG = st.builds(c.ToolConfig, tools=st.lists(SPEC | CACHE_POINT, max_size=3).map(tuple), tool_choice=CHOICE)


def _text(value: Any) -> str:
    # json.dumps keeps key order, so a reordered or missing key shows.
    return json.dumps(value, default=repr)


@settings(max_examples=800, deadline=None)
@given(message=MESSAGE)
def test_a_message_written_the_short_way_is_what_cattrs_writes(message: c.Message) -> None:
    assert _text(FAST.unstructure(message)) == _text(GENERAL.unstructure(message))


@settings(max_examples=300, deadline=None)
@given(config=TOOL_CONFIG)
def test_a_tool_config_written_the_short_way_is_what_cattrs_writes(config: c.ToolConfig) -> None:
    assert _text(FAST.unstructure(config)) == _text(GENERAL.unstructure(config))


@settings(max_examples=200, deadline=None)
@given(messages=st.lists(MESSAGE, min_size=1, max_size=3), config=TOOL_CONFIG | st.none())
def test_a_whole_request_is_written_alike(messages: list[c.Message], config: c.ToolConfig | None) -> None:
    request = c.ConverseRequest(messages=tuple(messages), tool_config=config)
    assert _text(FAST.unstructure(request)) == _text(GENERAL.unstructure(request))


def test_a_tool_input_dict_is_sent_as_it_is() -> None:
    data = {"path": "/a"}
    block = c.ToolUseContent(tool_use=c.ToolUse(tool_use_id="t", name="n", input=data))
    written = FAST.unstructure(c.Message(role="assistant", content=(block,)))
    assert written["content"][0]["toolUse"]["input"] is data
