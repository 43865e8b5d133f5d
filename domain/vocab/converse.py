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


class Base64Blob(bytes):
    """Blob bytes that keep the base64 text they came as (canonical, standard alphabet).

    The wire may send ``base64`` as it is rather than encode the bytes again: for a large
    image that is one copy of the text fewer.
    """

    base64: str

    def __new__(cls, data: bytes, base64: str) -> Base64Blob:
        """The bytes ``data``, remembering ``base64``, their exact encoding."""
        blob = super().__new__(cls, data)
        blob.base64 = base64
        return blob


@attrs.frozen(kw_only=True)
class CachePoint:
    """Where a cached prompt prefix ends; ``ttl`` as in Anthropic's ``cache_control``."""

    type: Literal["default"] = "default"
    ttl: str | None = None


@attrs.frozen(kw_only=True)
class BytesSource:
    """Raw bytes of an image or document (base64 only on the wire)."""

    bytes: Blob


@attrs.frozen(kw_only=True)
class TextSource:
    """A document given as text."""

    text: str


@attrs.frozen(kw_only=True)
class Image:
    """An image: its ``format`` (png, jpeg, gif, webp) and bytes."""

    format: str
    source: BytesSource


@attrs.frozen(kw_only=True)
class CitationsConfig:
    """Whether answers may cite a document."""

    enabled: bool


@attrs.frozen(kw_only=True)
class Document:
    """A document: its ``format`` (pdf, txt...), a ``name`` unique in the request, and content.

    ``context`` is extra text for the model about the document; ``citations`` lets answers cite it.
    """

    format: str
    name: str
    source: BytesSource | TextSource
    context: str | None = None
    citations: CitationsConfig | None = None


@attrs.frozen(kw_only=True)
class ToolUse:
    """A tool call from the model; ``input`` is any JSON value (an object in practice)."""

    tool_use_id: str
    name: str
    input: Any


@attrs.frozen(kw_only=True)
class ReasoningText:
    """Visible reasoning and the signature that must come back with it."""

    text: str
    signature: str | None = None


# --- content union members -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TextContent:
    """A text block."""

    text: str


@attrs.frozen(kw_only=True)
class ImageContent:
    """An image block."""

    image: Image


@attrs.frozen(kw_only=True)
class DocumentContent:
    """A document block."""

    document: Document


@attrs.frozen(kw_only=True)
class JsonContent:
    """A JSON value inside a tool result."""

    json: Any


@attrs.frozen(kw_only=True)
class ToolUseContent:
    """A tool-call block, in assistant turns."""

    tool_use: ToolUse


ToolResultItem = TextContent | ImageContent | DocumentContent | JsonContent


@attrs.frozen(kw_only=True)
class ToolResult:
    """The result of a tool call; ``status`` ``error`` marks a failed one."""

    tool_use_id: str
    content: tuple[ToolResultItem, ...]
    status: Literal["success", "error"] | None = None


@attrs.frozen(kw_only=True)
class ToolResultContent:
    """A tool-result block, in user turns."""

    tool_result: ToolResult


@attrs.frozen(kw_only=True)
class ReasoningTextContent:
    """Reasoning as readable text."""

    reasoning_text: ReasoningText


@attrs.frozen(kw_only=True)
class RedactedReasoningContent:
    """Reasoning kept encrypted by the model: opaque bytes, returned as is."""

    redacted_content: bytes


@attrs.frozen(kw_only=True)
class ReasoningContent:
    """A reasoning block: readable or redacted."""

    reasoning_content: ReasoningTextContent | RedactedReasoningContent


@attrs.frozen(kw_only=True)
class CachePointContent:
    """A cache point between blocks: everything before it may be cached."""

    cache_point: CachePoint


# --- citations -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DocumentSpan:
    """Where a citation points in the request's ``document_index``-th document.

    Characters, pages or chunks, by which ``CitationLocation`` member holds it.
    """

    document_index: int = 0
    start: int = 0
    end: int = 0


@attrs.frozen(kw_only=True)
class DocumentCharLocation:
    """A character range of a text document."""

    document_char: DocumentSpan


@attrs.frozen(kw_only=True)
class DocumentPageLocation:
    """A page range of a PDF."""

    document_page: DocumentSpan


@attrs.frozen(kw_only=True)
class DocumentChunkLocation:
    """A chunk range of a document given as content."""

    document_chunk: DocumentSpan


# Web and search-result locations are not modelled: the proxy sends neither source.
CitationLocation = DocumentCharLocation | DocumentPageLocation | DocumentChunkLocation


@attrs.frozen(kw_only=True)
class Citation:
    """One citation: the cited document's ``title`` (its name), the cited text, and where."""

    title: str | None = None
    source: str | None = None
    source_content: tuple[TextContent, ...] = ()
    location: CitationLocation | None = None


@attrs.frozen(kw_only=True)
class CitationsBlock:
    """Generated text and the citations that back it."""

    content: tuple[TextContent, ...] = ()
    citations: tuple[Citation, ...] = ()


@attrs.frozen(kw_only=True)
class CitationsContent:
    """A cited part of an answer (documents sent with citations enabled)."""

    citations_content: CitationsBlock


ContentBlock = (
    TextContent
    | ImageContent
    | DocumentContent
    | ToolUseContent
    | ToolResultContent
    | ReasoningContent
    | CachePointContent
    | CitationsContent
)
SystemBlock = TextContent | CachePointContent


@attrs.frozen(kw_only=True)
class Message:
    """One turn; Converse wants them alternating and starting with ``user``."""

    role: Literal["user", "assistant"]
    content: tuple[ContentBlock, ...]


# --- request ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InputSchema:
    """A tool's JSON Schema, wrapped in Converse's ``json`` member."""

    json: dict[str, Any]


@attrs.frozen(kw_only=True)
class ToolSpec:
    """A tool the model may call."""

    name: str
    input_schema: InputSchema
    description: str | None = None


@attrs.frozen(kw_only=True)
class ToolSpecEntry:
    """A tool in ``toolConfig.tools`` (where cache points may also stand)."""

    tool_spec: ToolSpec


ToolEntry = ToolSpecEntry | CachePointContent


@attrs.frozen(kw_only=True)
class EmptyChoice:
    """The ``{}`` that ``auto`` and ``any`` carry."""


@attrs.frozen(kw_only=True)
class NamedTool:
    """The tool a ``SpecificChoice`` forces."""

    name: str


@attrs.frozen(kw_only=True)
class AutoChoice:
    """The model decides whether to call a tool."""

    auto: EmptyChoice = EmptyChoice()


@attrs.frozen(kw_only=True)
class AnyChoice:
    """The model must call some tool."""

    any: EmptyChoice = EmptyChoice()


@attrs.frozen(kw_only=True)
class SpecificChoice:
    """The model must call the named tool."""

    tool: NamedTool


ToolChoice = AutoChoice | AnyChoice | SpecificChoice


@attrs.frozen(kw_only=True)
class ToolConfig:
    """The tools offered and, if set, the choice among them."""

    tools: tuple[ToolEntry, ...]
    tool_choice: ToolChoice | None = None


@attrs.frozen(kw_only=True)
class InferenceConfig:
    """Sampling and length limits; ``top_k`` is not here (it goes in the additional fields)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class JsonSchemaStructure:
    """A JSON schema for structured output; Converse takes the schema as a JSON string."""

    schema: str
    name: str | None = None
    description: str | None = None


@attrs.frozen(kw_only=True)
class TextFormatStructure:
    """The ``structure`` union of ``textFormat``: only ``jsonSchema`` exists."""

    json_schema: JsonSchemaStructure


@attrs.frozen(kw_only=True)
class TextFormat:
    """Native structured output: the answer is JSON matching ``structure``."""

    type: str
    structure: TextFormatStructure


@attrs.frozen(kw_only=True)
class OutputConfig:
    """Converse ``outputConfig``: native structured output."""

    text_format: TextFormat | None = None


@attrs.frozen(kw_only=True)
class ConverseRequest:
    """A Converse body; ``modelId`` travels in the path, never here."""

    messages: tuple[Message, ...]
    system: tuple[SystemBlock, ...] | None = None
    inference_config: InferenceConfig | None = None
    tool_config: ToolConfig | None = None
    additional_model_request_fields: dict[str, Any] | None = None
    additional_model_response_field_paths: tuple[str, ...] | None = None
    output_config: OutputConfig | None = None


# --- response --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CacheDetail:
    """Cache writes of one lifetime (``ttl`` ``5m`` or ``1h``)."""

    ttl: str
    input_tokens: int = 0


@attrs.frozen(kw_only=True)
class TokenUsage:
    """Token counts; ``input_tokens`` excludes cache reads and writes."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    # The writes split by lifetime, 1h first.
    cache_details: tuple[CacheDetail, ...] | None = None


@attrs.frozen(kw_only=True)
class Output:
    """The ``output`` wrapper around the response message."""

    message: Message


@attrs.frozen(kw_only=True)
class ConverseResponse:
    """A whole Converse answer; stop details beyond the reason sit in the additional fields."""

    output: Output
    stop_reason: str
    usage: TokenUsage
    additional_model_response_fields: dict[str, Any] | None = None


# --- stream events -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ToolUseStart:
    """The id and name that open a tool block; its input follows in deltas."""

    tool_use_id: str
    name: str


@attrs.frozen(kw_only=True)
class BlockStart:
    """What opens a block; only tool blocks are opened explicitly."""

    tool_use: ToolUseStart | None = None


@attrs.frozen(kw_only=True)
class ToolUseInput:
    """The next piece of a tool call's input JSON."""

    input: str


@attrs.frozen(kw_only=True)
class ReasoningChunk:
    """A piece of reasoning: text, its signature, or redacted bytes."""

    text: str | None = None
    signature: str | None = None
    redacted_content: bytes | None = None


@attrs.frozen(kw_only=True)
class TextChunk:
    """More text for a text block."""

    text: str


@attrs.frozen(kw_only=True)
class ToolUseChunk:
    """More input for a tool block."""

    tool_use: ToolUseInput


@attrs.frozen(kw_only=True)
class ReasoningDelta:
    """More reasoning for a reasoning block."""

    reasoning_content: ReasoningChunk


@attrs.frozen(kw_only=True)
class CitationDelta:
    """A citation for the text block at this index; it may come before the block's text."""

    citation: Citation


Delta = TextChunk | ToolUseChunk | ReasoningDelta | CitationDelta


@attrs.frozen(kw_only=True)
class MessageStartEvent:
    """The stream's first event."""

    role: str = "assistant"


@attrs.frozen(kw_only=True)
class ContentBlockStartEvent:
    """An explicitly opened block (tool use) at ``content_block_index``."""

    content_block_index: int
    start: BlockStart


@attrs.frozen(kw_only=True)
class ContentBlockDeltaEvent:
    """A delta for the block at ``content_block_index``; opens text and reasoning blocks."""

    content_block_index: int
    delta: Delta | None


@attrs.frozen(kw_only=True)
class ContentBlockStopEvent:
    """The block at ``content_block_index`` is complete."""

    content_block_index: int


@attrs.frozen(kw_only=True)
class MessageStopEvent:
    """Why the message ended; usage still follows in ``metadata``."""

    stop_reason: str
    additional_model_response_fields: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class MetadataEvent:
    """The final token usage, sent after ``messageStop``."""

    usage: TokenUsage


RunKind = Literal["text", "tool_input", "reasoning"]


@attrs.frozen(kw_only=True)
class DeltaRun:
    """Consecutive deltas of one kind for the block at ``content_block_index``, read together.

    The same as one ``ContentBlockDeltaEvent`` per piece, in order: a ``TextChunk``, a
    ``ToolUseChunk`` or a ``ReasoningDelta`` of text alone, by ``kind``. Most of a stream
    arrives as runs of hundreds, so the proxy carries each run as one value.
    """

    content_block_index: int
    kind: RunKind
    pieces: tuple[str, ...]


StreamEvent = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | DeltaRun
    | ContentBlockStopEvent
    | MessageStopEvent
    | MetadataEvent
)
