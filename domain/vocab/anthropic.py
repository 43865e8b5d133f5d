"""The Anthropic Messages vocabulary: what Claude Code sends and what it expects back.

Value objects only. Every content block and stream event carries its ``type`` as a
``Literal`` so the wire converter can pick the class from that field alone.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs


@attrs.frozen(kw_only=True)
class CacheControl:
    type: Literal["ephemeral"] = "ephemeral"
    ttl: str | None = None


# --- sources of images and documents -------------------------------------------------


@attrs.frozen(kw_only=True)
class Base64Source:
    type: Literal["base64"]
    media_type: str
    data: str


@attrs.frozen(kw_only=True)
class PlainTextSource:
    type: Literal["text"]
    data: str
    media_type: str = "text/plain"


@attrs.frozen(kw_only=True)
class ContentSource:
    """A document given as content blocks (text and images)."""

    type: Literal["content"]
    content: str | tuple[TextBlock | ImageBlock, ...]


@attrs.frozen(kw_only=True)
class UrlSource:
    type: Literal["url"]
    url: str


@attrs.frozen(kw_only=True)
class FileSource:
    type: Literal["file"]
    file_id: str


ImageSource = Base64Source | UrlSource | FileSource
DocumentSource = Base64Source | PlainTextSource | ContentSource | UrlSource | FileSource


# --- content blocks --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TextBlock:
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ImageBlock:
    type: Literal["image"]
    source: ImageSource
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class DocumentBlock:
    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    context: str | None = None
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ToolUseBlock:
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any] = attrs.field(factory=dict)
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class SearchResultBlock:
    type: Literal["search_result"]
    source: str
    title: str
    content: tuple[TextBlock, ...] = ()
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ToolReferenceBlock:
    """Names a deferred tool for Anthropic's tool search to load (no Converse equivalent)."""

    type: Literal["tool_reference"]
    tool_name: str
    cache_control: CacheControl | None = None


ToolResultItem = TextBlock | ImageBlock | DocumentBlock | SearchResultBlock | ToolReferenceBlock


@attrs.frozen(kw_only=True)
class ToolResultBlock:
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | tuple[ToolResultItem, ...] = ""
    is_error: bool | None = None
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ThinkingBlock:
    type: Literal["thinking"]
    thinking: str
    signature: str = ""
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class RedactedThinkingBlock:
    type: Literal["redacted_thinking"]
    data: str
    cache_control: CacheControl | None = None


ContentBlock = (
    TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock
)
ResponseBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock


@attrs.frozen(kw_only=True)
class Message:
    # "system" entries arrive inside messages from newer Claude Code builds.
    role: Literal["user", "assistant", "system"]
    content: str | tuple[ContentBlock, ...]


# --- request ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Tool:
    """A custom tool, or a typed server tool (``type`` set, no schema)."""

    name: str
    input_schema: dict[str, Any] | None = None
    description: str | None = None
    type: str | None = None
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ToolChoice:
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


@attrs.frozen(kw_only=True)
class ThinkingConfig:
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None
    display: str | None = None


@attrs.frozen(kw_only=True)
class OutputConfig:
    effort: str | None = None
    format: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
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
    container: Any = None
    mcp_servers: Any = None
    betas: tuple[str, ...] = ()


# --- response --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class TextDelta:
    type: Literal["text_delta"]
    text: str


@attrs.frozen(kw_only=True)
class InputJsonDelta:
    type: Literal["input_json_delta"]
    partial_json: str


@attrs.frozen(kw_only=True)
class ThinkingDelta:
    type: Literal["thinking_delta"]
    thinking: str


@attrs.frozen(kw_only=True)
class SignatureDelta:
    type: Literal["signature_delta"]
    signature: str


BlockDelta = TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta


@attrs.frozen(kw_only=True)
class MessageStartEvent:
    type: Literal["message_start"]
    message: MessagesResponse


@attrs.frozen(kw_only=True)
class ContentBlockStartEvent:
    type: Literal["content_block_start"]
    index: int
    content_block: ResponseBlock


@attrs.frozen(kw_only=True)
class ContentBlockDeltaEvent:
    type: Literal["content_block_delta"]
    index: int
    delta: BlockDelta


@attrs.frozen(kw_only=True)
class ContentBlockStopEvent:
    type: Literal["content_block_stop"]
    index: int


@attrs.frozen(kw_only=True)
class StopInfo:
    stop_reason: str | None
    stop_sequence: str | None


@attrs.frozen(kw_only=True)
class MessageDeltaEvent:
    type: Literal["message_delta"]
    delta: StopInfo
    usage: Usage


@attrs.frozen(kw_only=True)
class MessageStopEvent:
    type: Literal["message_stop"]


@attrs.frozen(kw_only=True)
class PingEvent:
    type: Literal["ping"]


@attrs.frozen(kw_only=True)
class ErrorDetail:
    type: str
    message: str


@attrs.frozen(kw_only=True)
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
