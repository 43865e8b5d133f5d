"""The Bedrock Converse vocabulary that AI Nexus speaks.

Converse unions are JSON objects with exactly one member key, so each union member is
its own class with that one field; the wire converter picks the class from the key.
Field names are snake_case here and lowerCamelCase on the wire. Blobs are ``bytes``.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

frozen = attrs.frozen(kw_only=True)
# A named alias, because a field called ``bytes`` would shadow the type in annotations.
Blob = bytes


@frozen
class CachePoint:
    type: Literal["default"] = "default"
    ttl: str | None = None


@frozen
class BytesSource:
    bytes: Blob


@frozen
class TextSource:
    text: str


@frozen
class Image:
    format: str
    source: BytesSource


@frozen
class Document:
    format: str
    name: str
    source: BytesSource | TextSource


@frozen
class ToolUse:
    tool_use_id: str
    name: str
    input: Any


@frozen
class ReasoningText:
    text: str
    signature: str | None = None


# --- content union members -------------------------------------------------------------


@frozen
class TextContent:
    text: str


@frozen
class ImageContent:
    image: Image


@frozen
class DocumentContent:
    document: Document


@frozen
class JsonContent:
    json: Any


@frozen
class ToolUseContent:
    tool_use: ToolUse


ToolResultItem = TextContent | ImageContent | DocumentContent | JsonContent


@frozen
class ToolResult:
    tool_use_id: str
    content: tuple[ToolResultItem, ...]
    status: Literal["success", "error"] | None = None


@frozen
class ToolResultContent:
    tool_result: ToolResult


@frozen
class ReasoningTextContent:
    reasoning_text: ReasoningText


@frozen
class RedactedReasoningContent:
    redacted_content: bytes


@frozen
class ReasoningContent:
    reasoning_content: ReasoningTextContent | RedactedReasoningContent


@frozen
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


@frozen
class Message:
    role: Literal["user", "assistant"]
    content: tuple[ContentBlock, ...]


# --- request ---------------------------------------------------------------------------


@frozen
class InputSchema:
    json: dict[str, Any]


@frozen
class ToolSpec:
    name: str
    input_schema: InputSchema
    description: str | None = None


@frozen
class ToolSpecEntry:
    tool_spec: ToolSpec


ToolEntry = ToolSpecEntry | CachePointContent


@frozen
class EmptyChoice:
    """The ``{}`` that ``auto`` and ``any`` carry."""


@frozen
class NamedTool:
    name: str


@frozen
class AutoChoice:
    auto: EmptyChoice = EmptyChoice()


@frozen
class AnyChoice:
    any: EmptyChoice = EmptyChoice()


@frozen
class SpecificChoice:
    tool: NamedTool


ToolChoice = AutoChoice | AnyChoice | SpecificChoice


@frozen
class ToolConfig:
    tools: tuple[ToolEntry, ...]
    tool_choice: ToolChoice | None = None


@frozen
class InferenceConfig:
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: tuple[str, ...] | None = None


@frozen
class ConverseRequest:
    """A Converse body; ``modelId`` travels in the path, never here."""

    messages: tuple[Message, ...]
    system: tuple[SystemBlock, ...] | None = None
    inference_config: InferenceConfig | None = None
    tool_config: ToolConfig | None = None
    additional_model_request_fields: dict[str, Any] | None = None
    additional_model_response_field_paths: tuple[str, ...] | None = None


# --- response --------------------------------------------------------------------------


@frozen
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None


@frozen
class Output:
    message: Message


@frozen
class ConverseResponse:
    output: Output
    stop_reason: str
    usage: TokenUsage
    additional_model_response_fields: dict[str, Any] | None = None


# --- stream events -----------------------------------------------------------------------


@frozen
class ToolUseStart:
    tool_use_id: str
    name: str


@frozen
class BlockStart:
    tool_use: ToolUseStart | None = None


@frozen
class ToolUseInput:
    input: str


@frozen
class ReasoningChunk:
    text: str | None = None
    signature: str | None = None
    redacted_content: bytes | None = None


@frozen
class TextChunk:
    text: str


@frozen
class ToolUseChunk:
    tool_use: ToolUseInput


@frozen
class ReasoningDelta:
    reasoning_content: ReasoningChunk


Delta = TextChunk | ToolUseChunk | ReasoningDelta


@frozen
class MessageStartEvent:
    role: str = "assistant"


@frozen
class ContentBlockStartEvent:
    content_block_index: int
    start: BlockStart


@frozen
class ContentBlockDeltaEvent:
    content_block_index: int
    delta: Delta | None


@frozen
class ContentBlockStopEvent:
    content_block_index: int


@frozen
class MessageStopEvent:
    stop_reason: str
    additional_model_response_fields: dict[str, Any] | None = None


@frozen
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
