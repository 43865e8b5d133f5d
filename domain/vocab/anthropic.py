"""The Anthropic Messages vocabulary: what Claude Code sends and what it expects back.

Value objects only. Every content block and stream event carries its ``type`` as a
``Literal`` so the wire converter can pick the class from that field alone.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs


@attrs.frozen(kw_only=True)
class CacheControl:
    """A block's request to end a cached prefix there; ``ttl`` such as ``"1h"``, else the default."""

    type: Literal["ephemeral"] = "ephemeral"
    ttl: str | None = None


# --- sources of images and documents -------------------------------------------------


@attrs.frozen(kw_only=True)
class Base64Source:
    """Inline bytes, base64-encoded, with their media type."""

    type: Literal["base64"]
    media_type: str
    data: str


@attrs.frozen(kw_only=True)
class PlainTextSource:
    """A document given as a plain string."""

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
    """An image or document to fetch from a URL (not supported through Nexus)."""

    type: Literal["url"]
    url: str


@attrs.frozen(kw_only=True)
class FileSource:
    """An image or document uploaded to Anthropic's Files API (not supported through Nexus)."""

    type: Literal["file"]
    file_id: str


ImageSource = Base64Source | UrlSource | FileSource
DocumentSource = Base64Source | PlainTextSource | ContentSource | UrlSource | FileSource


# --- citations -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CitationsConfig:
    """A document's request that answers cite it."""

    enabled: bool = False


@attrs.frozen(kw_only=True)
class CharLocation:
    """A cited span of a plain-text document, by character (end exclusive)."""

    type: Literal["char_location"]
    cited_text: str
    document_index: int
    document_title: str | None = None
    start_char_index: int
    end_char_index: int


@attrs.frozen(kw_only=True)
class PageLocation:
    """A cited page range of a PDF (pages from 1, end exclusive)."""

    type: Literal["page_location"]
    cited_text: str
    document_index: int
    document_title: str | None = None
    start_page_number: int
    end_page_number: int


@attrs.frozen(kw_only=True)
class ContentBlockLocation:
    """A cited range of a content document's blocks (end exclusive)."""

    type: Literal["content_block_location"]
    cited_text: str
    document_index: int
    document_title: str | None = None
    start_block_index: int
    end_block_index: int


@attrs.frozen(kw_only=True)
class SearchResultLocation:
    """A cited range of a ``search_result`` block's content; only read back from clients."""

    type: Literal["search_result_location"]
    cited_text: str
    search_result_index: int = 0
    source: str = ""
    title: str | None = None
    start_block_index: int = 0
    end_block_index: int = 0


@attrs.frozen(kw_only=True)
class WebSearchResultLocation:
    """A cited web search result; only read back from clients (Nexus has no web search)."""

    type: Literal["web_search_result_location"]
    cited_text: str
    url: str = ""
    title: str | None = None
    encrypted_index: str = ""


Citation = CharLocation | PageLocation | ContentBlockLocation | SearchResultLocation | WebSearchResultLocation


# --- content blocks --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TextBlock:
    """Text, from the user or the model."""

    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None
    # Model text that cites documents; clients send it back in later assistant turns.
    citations: tuple[Citation, ...] | None = None


@attrs.frozen(kw_only=True)
class ImageBlock:
    """An image in a user turn or a tool result."""

    type: Literal["image"]
    source: ImageSource
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class DocumentBlock:
    """A document (PDF or text) in a user turn or a tool result; ``title`` names it."""

    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    context: str | None = None
    cache_control: CacheControl | None = None
    citations: CitationsConfig | None = None


@attrs.frozen(kw_only=True)
class ToolUseBlock:
    """The model's call of a tool: the ``id`` a result answers, and the parsed input."""

    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any] = attrs.field(factory=dict)
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class SearchResultBlock:
    """A search result the client supplies, for citation (passed to Converse as text)."""

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
    """The client's answer to a ``tool_use``; ``is_error`` marks a failed call."""

    type: Literal["tool_result"]
    tool_use_id: str
    content: str | tuple[ToolResultItem, ...] = ""
    is_error: bool | None = None
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ThinkingBlock:
    """The model's visible reasoning; ``signature`` must come back unchanged in later turns."""

    type: Literal["thinking"]
    thinking: str
    signature: str = ""
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class RedactedThinkingBlock:
    """Reasoning the model keeps encrypted: opaque base64 ``data``, returned as is."""

    type: Literal["redacted_thinking"]
    data: str
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ToolNameReference:
    """A tool change naming a tool declared in ``tools`` (or added earlier)."""

    type: Literal["tool_reference"]
    name: str


@attrs.frozen(kw_only=True)
class McpToolReference:
    """A tool change naming one tool of an MCP server."""

    type: Literal["mcp_tool_reference"]
    server_name: str
    name: str


@attrs.frozen(kw_only=True)
class McpToolsetReference:
    """A tool change naming every tool of an MCP server."""

    type: Literal["mcp_toolset_reference"]
    server_name: str


@attrs.frozen(kw_only=True)
class ToolDefinition:
    """A tool change carrying the whole definition (an addition under ``inline-tools``)."""

    type: Literal["tool_definition"]
    definition: Tool


ToolChangeTarget = ToolNameReference | McpToolReference | McpToolsetReference | ToolDefinition


@attrs.frozen(kw_only=True)
class ToolAdditionBlock:
    """In a ``system`` message: from here on the model may call ``tool``."""

    type: Literal["tool_addition"]
    tool: ToolChangeTarget
    cache_control: CacheControl | None = None


@attrs.frozen(kw_only=True)
class ToolRemovalBlock:
    """In a ``system`` message: from here on the model may no longer call ``tool``."""

    type: Literal["tool_removal"]
    tool: ToolChangeTarget
    cache_control: CacheControl | None = None


ToolChangeBlock = ToolAdditionBlock | ToolRemovalBlock
ContentBlock = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolAdditionBlock
    | ToolRemovalBlock
)
ResponseBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock


@attrs.frozen(kw_only=True)
class Message:
    """One turn of the conversation: a string or a tuple of content blocks."""

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
    # Tool search: the tool stays out of the model's view until the history loads it.
    defer_loading: bool | None = None


@attrs.frozen(kw_only=True)
class ToolChoice:
    """Whether and which tool the model must call (``none`` forbids any)."""

    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


@attrs.frozen(kw_only=True)
class ThinkingConfig:
    """Extended thinking: on with a token budget, off, or adaptive (the model decides)."""

    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None
    display: str | None = None


@attrs.frozen(kw_only=True)
class OutputConfig:
    """Output controls: reasoning ``effort`` and a structured-output ``format`` schema."""

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
    # Claude Code's auto-mode safety check request; Bedrock cannot run it. Kept opaque:
    # its classifier_context holds local paths, rules and git remotes.
    safeguards: Any = attrs.field(default=None, repr=False)
    betas: tuple[str, ...] = ()


# --- auto mode's safety check (answered by the proxy when asked to) --------------------


@attrs.frozen(kw_only=True)
class CitedRule:
    """The user's auto-mode rule that decided a verdict: ``auto_mode.soft_deny.<n>`` or ``.allow.<n>``."""

    type: Literal["classifier_context"] = "classifier_context"
    path: str


@attrs.frozen(kw_only=True)
class Verdict:
    """The check's answer for one tool use: ``evaluated`` (with an outcome) or ``unavailable``.

    ``unavailable`` carries a ``reason`` (``error``, ``timeout``, ``refused``,
    ``input_unparsed``, ``input_too_long``); Claude Code refuses such a call.
    """

    type: Literal["evaluated", "unavailable"]
    outcome: Literal["flagged", "not_flagged"] | None = None
    explanation: str | None = None
    cited_rule: CitedRule | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True)
class SafeguardStatus:
    """``available`` with one verdict per tool use id, or ``unavailable`` for the whole check."""

    type: Literal["available", "unavailable"]
    tool_uses: dict[str, Verdict] | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True)
class SafeguardResult:
    """One safeguard's result, as Claude Code reads it from ``safeguard_results``."""

    type: Literal["dangerous_tool_use"] = "dangerous_tool_use"
    status: SafeguardStatus


# --- response --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CacheCreation:
    """Cache writes split by lifetime; Claude Code prices the two differently."""

    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


@attrs.frozen(kw_only=True)
class OutputTokensDetails:
    """What the output tokens were spent on; ``output_tokens`` still counts them all."""

    thinking_tokens: int = 0


@attrs.frozen(kw_only=True)
class Usage:
    """Token counts; ``input_tokens`` excludes both cache buckets.

    ``cache_creation`` and ``output_tokens_details`` are left out unless Nexus reported them.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation: CacheCreation | None = None
    output_tokens_details: OutputTokensDetails | None = None


@attrs.frozen(kw_only=True)
class MessagesResponse:
    """A whole assistant message; also the skeleton ``message_start`` carries."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: tuple[ResponseBlock, ...]
    stop_reason: str | None
    stop_sequence: str | None
    usage: Usage
    # Only when Claude Code asked for auto mode's check and the proxy answers it.
    safeguard_results: tuple[SafeguardResult, ...] | None = None


# --- stream events ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TextDelta:
    """More text for an open text block."""

    type: Literal["text_delta"]
    text: str


@attrs.frozen(kw_only=True)
class InputJsonDelta:
    """The next piece of a tool call's input JSON, not parseable until the block stops."""

    type: Literal["input_json_delta"]
    partial_json: str


@attrs.frozen(kw_only=True)
class ThinkingDelta:
    """More reasoning text for an open thinking block."""

    type: Literal["thinking_delta"]
    thinking: str


@attrs.frozen(kw_only=True)
class SignatureDelta:
    """A thinking block's signature, sent just before the block stops."""

    type: Literal["signature_delta"]
    signature: str


@attrs.frozen(kw_only=True)
class CitationsDelta:
    """One more citation for an open text block."""

    type: Literal["citations_delta"]
    citation: Citation


BlockDelta = TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta | CitationsDelta


@attrs.frozen(kw_only=True)
class MessageStartEvent:
    """The first stream event: the message with no content yet."""

    type: Literal["message_start"]
    message: MessagesResponse


@attrs.frozen(kw_only=True)
class ContentBlockStartEvent:
    """A new block at ``index`` (0, 1, 2... in order)."""

    type: Literal["content_block_start"]
    index: int
    content_block: ResponseBlock


@attrs.frozen(kw_only=True)
class ContentBlockDeltaEvent:
    """A delta for the open block at ``index``."""

    type: Literal["content_block_delta"]
    index: int
    delta: BlockDelta


@attrs.frozen(kw_only=True)
class ContentBlockStopEvent:
    """The block at ``index`` is complete."""

    type: Literal["content_block_stop"]
    index: int


@attrs.frozen(kw_only=True)
class StopInfo:
    """Why the message ended, and the stop sequence that ended it, if one did."""

    stop_reason: str | None
    stop_sequence: str | None
    # Auto mode's check, in the final ``message_delta`` when the proxy answers it.
    safeguard_results: tuple[SafeguardResult, ...] | None = None


@attrs.frozen(kw_only=True)
class MessageDeltaEvent:
    """The stop reason and final usage, sent once after the last block."""

    type: Literal["message_delta"]
    delta: StopInfo
    usage: Usage


@attrs.frozen(kw_only=True)
class MessageStopEvent:
    """The last event of a stream that completed."""

    type: Literal["message_stop"]


@attrs.frozen(kw_only=True)
class PingEvent:
    """A keep-alive with no content."""

    type: Literal["ping"]


@attrs.frozen(kw_only=True)
class ErrorDetail:
    """An Anthropic error: its ``type`` (such as ``overloaded_error``) and message."""

    type: str
    message: str


@attrs.frozen(kw_only=True)
class ErrorEvent:
    """A failure after the stream started, in place of the remaining events."""

    type: Literal["error"]
    error: ErrorDetail


@attrs.frozen(kw_only=True)
class DeltaRun:
    """Consecutive ``content_block_delta`` events of one kind for the open block at ``index``.

    Never on the wire as such: it is written as one event per piece, each a ``kind`` delta
    (``text``, ``partial_json`` or ``thinking``) of that piece. The stream translator makes
    one of a run of Converse deltas that needs nothing but relabelling.
    """

    type: Literal["content_block_deltas"]
    index: int
    kind: Literal["text_delta", "input_json_delta", "thinking_delta"]
    pieces: tuple[str, ...]


StreamEvent = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | DeltaRun
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
)
