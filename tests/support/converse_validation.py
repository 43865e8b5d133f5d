"""Check Converse, ConverseStream and CountTokens request bodies the way Bedrock would.

botocore's ``ParamValidator`` checks types, required members, unknown keys, unions and
minimums. It does not check what the service checks on top: maximums, enums, patterns,
base64 in blobs, blank text, and the conversation rules of the Converse API. Those are
checked here, by one walk over the body alongside the input shape.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator

OPERATIONS = {
    "converse": "Converse",
    "converse-stream": "ConverseStream",
    "count-tokens": "CountTokens",
}
# Shapes whose ``text`` member Bedrock rejects when blank ("The text field ... is blank").
_TEXT_HOLDERS = {"ContentBlock", "SystemContentBlock", "ToolResultContentBlock"}
_NUMBERS = {"integer", "long", "float", "double"}
_TOOL_BLOCKS = ("toolUse", "toolResult")


@functools.cache
def botocore_session() -> botocore.session.Session:
    """One botocore session for every test: each new one would load and parse the
    service models again."""
    return botocore.session.get_session()


@functools.cache
def _input_shape(operation: str) -> Shape:
    model = botocore_session().get_service_model("bedrock-runtime")
    return model.operation_model(OPERATIONS[operation]).input_shape


def validate_converse_body(operation: str, model_id: str, body: Any) -> list[str]:
    """Return the reasons Bedrock would reject this request; ``[]`` when it is valid.

    Args:
        operation: ``"converse"``, ``"converse-stream"`` or ``"count-tokens"``.
        model_id: the model ID as it arrived in the path, already unquoted.
        body: the parsed JSON body.
    """
    if operation not in OPERATIONS:
        return [f"unknown operation {operation!r}"]
    if not isinstance(body, dict):
        return [f"body must be a JSON object, got {type(body).__name__}"]
    shape = _input_shape(operation)
    errors = [
        f"{name} travels in the path, not in the body"
        for name, member in shape.members.items()
        if name in body and member.serialization.get("location")
    ]
    params = _Walk(errors).value({**body, "modelId": model_id}, shape, "")
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        errors[:0] = report.generate_report().splitlines()
    request: Any = body
    if operation == "count-tokens":
        union = body.get("input")
        request = union.get("converse") if isinstance(union, dict) else None
    if isinstance(request, dict) and isinstance(request.get("messages"), list):
        errors += _conversation_errors(request["messages"], "toolConfig" in request)
    return errors


class _Walk:
    """Decode base64 blobs and collect the checks ``ParamValidator`` leaves out."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors

    def value(self, value: Any, shape: Shape, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            return {k: self._member(v, shape, k, f"{path}.{k}" if path else k) for k, v in value.items()}
        if kind == "list" and isinstance(value, list):
            self._max(len(value), shape, path, "length")
            return [self.value(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
        if kind == "map" and isinstance(value, dict):
            self._size(len(value), shape, path)
            for key, item in value.items():
                self.value(key, shape.key, f"{path} (key: {key})")
                self.value(item, shape.value, f"{path}.{key}")
            return value
        if kind == "blob" and isinstance(value, str):
            return self._blob(value, shape, path)
        if kind == "string" and isinstance(value, str):
            self._string(value, shape, path)
        elif kind in _NUMBERS and isinstance(value, int | float) and not isinstance(value, bool):
            self._max(value, shape, path, "value")
        return value

    def _member(self, value: Any, shape: Shape, key: str, path: str) -> Any:
        member = shape.members.get(key)
        if member is None:
            return value  # ParamValidator reports unknown keys.
        blank = isinstance(value, str) and not value.strip()
        if key == "text" and shape.name in _TEXT_HOLDERS and blank:
            self.errors.append(f"{path}: text is blank; Bedrock rejects blank text")
        return self.value(value, member, path)

    def _blob(self, value: str, shape: Shape, path: str) -> bytes | str:
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            self.errors.append(f"{path}: blob is not valid base64 ({exc})")
            return value
        self._max(len(raw), shape, path, "length")
        return raw

    def _string(self, value: str, shape: Shape, path: str) -> None:
        self._max(len(value), shape, path, "length")
        if shape.enum and value not in shape.enum:
            self.errors.append(f"{path}: {value!r} is not one of {shape.enum}")
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            self.errors.append(f"{path}: {value!r} does not match pattern {pattern}")

    def _max(self, value: float, shape: Shape, path: str, what: str) -> None:
        if "max" in shape.metadata and value > shape.metadata["max"]:
            self.errors.append(f"{path}: {what} {value} is above the maximum {shape.metadata['max']}")

    def _size(self, size: int, shape: Shape, path: str) -> None:
        self._max(size, shape, path, "size")
        if size < shape.metadata.get("min", 0):
            self.errors.append(f"{path}: size {size} is below the minimum {shape.metadata['min']}")


def _conversation_errors(messages: list[Any], has_tool_config: bool) -> list[str]:
    """The service-side rules of a conversation that the model cannot express."""
    errors = []
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") != "system"]
    if turns and turns[0].get("role") != "user":
        errors.append("messages: a conversation must start with a user message")
    for i, (before, after) in enumerate(zip(turns, turns[1:], strict=False), start=1):
        if before.get("role") == after.get("role"):
            errors.append(f"messages: roles must alternate (turn {i} repeats {after.get('role')})")
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if content == []:
            errors.append(f"messages[{i}].content: the content field is empty")
        blocks = content if isinstance(content, list) else []
        if not has_tool_config and any(isinstance(b, dict) and b.keys() & set(_TOOL_BLOCKS) for b in blocks):
            errors.append(f"messages[{i}]: toolConfig must be defined with toolUse/toolResult blocks")
    return errors
