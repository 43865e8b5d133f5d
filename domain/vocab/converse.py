"""The Bedrock Converse vocabulary that AI Nexus speaks.

Converse unions are JSON objects with exactly one member key, so each union member is
its own class with that one field; the wire converter picks the class from the key.
Field names are snake_case here and lowerCamelCase on the wire. Blobs are ``bytes``.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

# A named alias, because a field called ``bytes`` would shadow the type in annotations.
Blob = bytes


@attrs.frozen(kw_only=True)
class CachePoint:
    type: Literal["default"] = "default"
    ttl: str | None = None


@attrs.frozen(kw_only=True)
class BytesSource:
    bytes: Blob


@attrs.frozen(kw_only=True)
class TextSource:
    text: str


@attrs.frozen(kw_only=True)
class Image:
    format: str
    source: BytesSource


@attrs.frozen(kw_only=True)
class Document:
    format: str
    name: str
    source: BytesSource | TextSource


@attrs.frozen(kw_only=True)
class ToolUse:
    tool_use_id: str
    name: str
    input: Any


@attrs.frozen(kw_only=True)
class ReasoningText:
    text: str
    signature: str | None = None


# --- content union members -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TextContent:
    text: str


@attrs.frozen(kw_only=True)
class ImageContent:
    image: Image


@attrs.frozen(kw_only=True)
class DocumentContent:
    document: Document


@attrs.frozen(kw_only=True)
class JsonContent:
    json: Any


@attrs.frozen(kw_only=True)
class ToolUseContent:
    tool_use: ToolUse


ToolResultItem = TextContent | ImageContent | DocumentContent | JsonContent


@attrs.frozen(kw_only=True)
class ToolResult:
    tool_use_id: str
    content: tuple[ToolResultItem, ...]
    status: Literal["success", "error"] | None = None


@attrs.frozen(kw_only=True)
class ToolResultContent:
    tool_result: ToolResult


@attrs.frozen(kw_only=True)
class ReasoningTextContent:
    reasoning_text: ReasoningText


@attrs.frozen(kw_only=True)
class RedactedReasoningContent:
    redacted_content: bytes


@attrs.frozen(kw_only=True)
class ReasoningContent:
    reasoning_content: ReasoningTextContent | RedactedReasoningContent


@attrs.frozen(kw_only=True)
class CachePointContent:
    cache_point: CachePoint


ContentBlock = (
    TextContent
    | ImageContent
    | DocumentContent
    | ToolUseContent
    | ToolResultContent
    | ReasoningContent
    | CachePointContent
)
SystemBlock = TextContent | CachePointContent


@attrs.frozen(kw_only=True)
class Message:
    role: Literal["user", "assistant"]
    content: tuple[ContentBlock, ...]


# --- request ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InputSchema:
    json: dict[str, Any]


@attrs.frozen(kw_only=True)
class ToolSpec:
    name: str
    input_schema: InputSchema
    description: str | None = None


@attrs.frozen(kw_only=True)
class ToolSpecEntry:
    tool_spec: ToolSpec


ToolEntry = ToolSpecEntry | CachePointContent


@attrs.frozen(kw_only=True)
class EmptyChoice:
    """The ``{}`` that ``auto`` and ``any`` carry."""


@attrs.frozen(kw_only=True)
class NamedTool:
    name: str


@attrs.frozen(kw_only=True)
class AutoChoice:
    auto: EmptyChoice = EmptyChoice()


@attrs.frozen(kw_only=True)
class AnyChoice:
    any: EmptyChoice = EmptyChoice()


@attrs.frozen(kw_only=True)
class SpecificChoice:
    tool: NamedTool


ToolChoice = AutoChoice | AnyChoice | SpecificChoice


@attrs.frozen(kw_only=True)
class ToolConfig:
    tools: tuple[ToolEntry, ...]
    tool_choice: ToolChoice | None = None


@attrs.frozen(kw_only=True)
class InferenceConfig:
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class ConverseRequest:
    """A Converse body; ``modelId`` travels in the path, never here."""

    messages: tuple[Message, ...]
    system: tuple[SystemBlock, ...] | None = None
    inference_config: InferenceConfig | None = None
    tool_config: ToolConfig | None = None
    additional_model_request_fields: dict[str, Any] | None = None
    additional_model_response_field_paths: tuple[str, ...] | None = None


# --- response --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None


@attrs.frozen(kw_only=True)
class Output:
    message: Message


@attrs.frozen(kw_only=True)
class ConverseResponse:
    output: Output
    stop_reason: str
    usage: TokenUsage
    additional_model_response_fields: dict[str, Any] | None = None


# --- stream events -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ToolUseStart:
    tool_use_id: str
    name: str


@attrs.frozen(kw_only=True)
class BlockStart:
    tool_use: ToolUseStart | None = None


@attrs.frozen(kw_only=True)
class ToolUseInput:
    input: str


@attrs.frozen(kw_only=True)
class ReasoningChunk:
    text: str | None = None
    signature: str | None = None
    redacted_content: bytes | None = None


@attrs.frozen(kw_only=True)
class TextChunk:
    text: str


@attrs.frozen(kw_only=True)
class ToolUseChunk:
    tool_use: ToolUseInput


@attrs.frozen(kw_only=True)
class ReasoningDelta:
    reasoning_content: ReasoningChunk


Delta = TextChunk | ToolUseChunk | ReasoningDelta


@attrs.frozen(kw_only=True)
class MessageStartEvent:
    role: str = "assistant"


@attrs.frozen(kw_only=True)
class ContentBlockStartEvent:
    content_block_index: int
    start: BlockStart


@attrs.frozen(kw_only=True)
class ContentBlockDeltaEvent:
    content_block_index: int
    delta: Delta | None


@attrs.frozen(kw_only=True)
class ContentBlockStopEvent:
    content_block_index: int


@attrs.frozen(kw_only=True)
class MessageStopEvent:
    stop_reason: str
    additional_model_response_fields: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class MetadataEvent:
    usage: TokenUsage


StreamEvent = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageStopEvent
    | MetadataEvent
)
