"""The Anthropic Messages vocabulary: what Claude Code sends and what it expects back.

Value objects only. Every content block and stream event carries its ``type`` as a
``Literal`` so the wire converter can pick the class from that field alone.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

frozen = attrs.frozen(kw_only=True)


@frozen
class CacheControl:
    type: Literal["ephemeral"] = "ephemeral"
    ttl: str | None = None


# --- sources of images and documents -------------------------------------------------


@frozen
class Base64Source:
    type: Literal["base64"]
    media_type: str
    data: str


@frozen
class PlainTextSource:
    type: Literal["text"]
    data: str
    media_type: str = "text/plain"


@frozen
class ContentSource:
    """A document given as content blocks (text and images)."""

    type: Literal["content"]
    content: str | tuple[TextBlock | ImageBlock, ...]


@frozen
class UrlSource:
    type: Literal["url"]
    url: str


@frozen
class FileSource:
    type: Literal["file"]
    file_id: str


ImageSource = Base64Source | UrlSource | FileSource
DocumentSource = Base64Source | PlainTextSource | ContentSource | UrlSource | FileSource


# --- content blocks --------------------------------------------------------------------


@frozen
class TextBlock:
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None


@frozen
class ImageBlock:
    type: Literal["image"]
    source: ImageSource
    cache_control: CacheControl | None = None


@frozen
class DocumentBlock:
    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    context: str | None = None
    cache_control: CacheControl | None = None


@frozen
class ToolUseBlock:
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any] = attrs.field(factory=dict)
    cache_control: CacheControl | None = None


ToolResultItem = TextBlock | ImageBlock | DocumentBlock


@frozen
class ToolResultBlock:
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | tuple[ToolResultItem, ...] = ""
    is_error: bool | None = None
    cache_control: CacheControl | None = None


@frozen
class ThinkingBlock:
    type: Literal["thinking"]
    thinking: str
    signature: str = ""
    cache_control: CacheControl | None = None


@frozen
class RedactedThinkingBlock:
    type: Literal["redacted_thinking"]
    data: str
    cache_control: CacheControl | None = None


ContentBlock = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
)
ResponseBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock


@frozen
class Message:
    # "system" entries arrive inside messages from newer Claude Code builds.
    role: Literal["user", "assistant", "system"]
    content: str | tuple[ContentBlock, ...]


# --- request ---------------------------------------------------------------------------


@frozen
class Tool:
    """A custom tool, or a typed server tool (``type`` set, no schema)."""

    name: str
    input_schema: dict[str, Any] | None = None
    description: str | None = None
    type: str | None = None
    cache_control: CacheControl | None = None


@frozen
class ToolChoice:
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


@frozen
class ThinkingConfig:
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None
    display: str | None = None


@frozen
class OutputConfig:
    effort: str | None = None
    format: dict[str, Any] | None = None


@frozen
class MessagesRequest:
    """A ``/v1/messages`` (or ``count_tokens``) body; ``betas`` also gathers the header."""

    model: str
    messages: tuple[Message, ...]
    max_tokens: int | None = None
    system: str | tuple[TextBlock, ...] | None = None
    stop_sequences: tuple[str, ...] | None = None
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    tools: tuple[Tool, ...] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None
    metadata: dict[str, Any] | None = None
    context_management: dict[str, Any] | None = None
    service_tier: str | None = None
    betas: tuple[str, ...] = ()


# --- response --------------------------------------------------------------------------


@frozen
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@frozen
class MessagesResponse:
    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: tuple[ResponseBlock, ...]
    stop_reason: str | None
    stop_sequence: str | None
    usage: Usage


# --- stream events ---------------------------------------------------------------------


@frozen
class TextDelta:
    type: Literal["text_delta"]
    text: str


@frozen
class InputJsonDelta:
    type: Literal["input_json_delta"]
    partial_json: str


@frozen
class ThinkingDelta:
    type: Literal["thinking_delta"]
    thinking: str


@frozen
class SignatureDelta:
    type: Literal["signature_delta"]
    signature: str


BlockDelta = TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta


@frozen
class MessageStartEvent:
    type: Literal["message_start"]
    message: MessagesResponse


@frozen
class ContentBlockStartEvent:
    type: Literal["content_block_start"]
    index: int
    content_block: ResponseBlock


@frozen
class ContentBlockDeltaEvent:
    type: Literal["content_block_delta"]
    index: int
    delta: BlockDelta


@frozen
class ContentBlockStopEvent:
    type: Literal["content_block_stop"]
    index: int


@frozen
class StopInfo:
    stop_reason: str | None
    stop_sequence: str | None


@frozen
class MessageDeltaEvent:
    type: Literal["message_delta"]
    delta: StopInfo
    usage: Usage


@frozen
class MessageStopEvent:
    type: Literal["message_stop"]


@frozen
class PingEvent:
    type: Literal["ping"]


@frozen
class ErrorDetail:
    type: str
    message: str


@frozen
class ErrorEvent:
    type: Literal["error"]
    error: ErrorDetail


StreamEvent = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
)
