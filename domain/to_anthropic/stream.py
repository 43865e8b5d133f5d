"""ConverseStream events -> Anthropic SSE events: a small state machine.

Converse opens only tool blocks explicitly; text and reasoning blocks begin with their
first delta. Its block indices need not match Anthropic's, which must count 0, 1, 2...
in order. Usage arrives last (``metadata``, after ``messageStop``), so ``message_delta``
waits for it. A stream that ends without ``messageStop`` is a failure, never a clean stop.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from domain.errors import UpstreamFailureError
from domain.to_anthropic.citations import citation
from domain.to_anthropic.response import stop_reason, stop_sequence, usage
from domain.vocab import anthropic as a
from domain.vocab import builders
from domain.vocab import converse as c

_Maker = Callable[[str], a.BlockDelta]


@attrs.define
class _OpenBlock:
    index: int
    kind: str
    # A high surrogate that ended the last delta, waiting for its low half, and the
    # kind of delta it came in.
    held: str = ""
    make: _Maker | None = None


_HIGH = ("\ud800", "\udbff")
_REPLACEMENT = "\ufffd"


def _is_high(char: str) -> bool:
    return _HIGH[0] <= char <= _HIGH[1]


def _well_formed(text: str) -> str:
    # Joins a surrogate pair into its character; a lone half becomes U+FFFD.
    if text.isascii():
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _only_text(chunk: c.ReasoningChunk) -> bool:
    return chunk.redacted_content is None and not chunk.signature


def message_start(message_id: str, model: str, input_estimate: int) -> a.MessageStartEvent:
    """The opening ``message_start`` event.

    Real usage is not known until the stream ends, so the input count is the local
    estimate and the output count a placeholder 1; ``message_delta`` brings the real ones.
    """
    message = a.MessagesResponse(
        id=message_id,
        model=model,
        content=(),
        stop_reason=None,
        stop_sequence=None,
        usage=a.Usage(input_tokens=input_estimate, output_tokens=1),
    )
    return a.MessageStartEvent(type="message_start", message=message)


# A run's kind, as the open block's kind and as the delta each of its pieces becomes.
_RUN_BLOCKS: dict[str, str] = {"text": "text", "tool_input": "tool_use", "reasoning": "thinking"}
_RUN_DELTAS: dict[str, Literal["text_delta", "input_json_delta", "thinking_delta"]] = {
    "text": "text_delta",
    "tool_input": "input_json_delta",
    "reasoning": "thinking_delta",
}


@attrs.define
class StreamTranslator:
    """Feed Converse events in order; collect the Anthropic events each one produces."""

    tool_names: Mapping[str, str]
    input_estimate: int = 1
    _open: dict[int, _OpenBlock] = attrs.field(factory=dict)
    _next_index: int = 0
    _stop: a.StopInfo | None = None
    # messageStop's additional fields, where thinking tokens are; usage comes after them.
    _stop_fields: Mapping[str, Any] | None = None
    done: bool = False

    def feed(self, event: c.StreamEvent) -> list[a.StreamEvent]:
        """The Anthropic events ``event`` produces, possibly none; usage waits for ``metadata``."""
        if type(event) is c.ContentBlockDeltaEvent and (events := self._plain_delta(event)) is not None:
            return events
        if type(event) is c.DeltaRun:
            return self._run(event)
        match event:
            case c.ContentBlockStartEvent(content_block_index=i, start=c.BlockStart(tool_use=use)) if use:
                block = a.ToolUseBlock(
                    type="tool_use", id=use.tool_use_id, name=self.tool_names.get(use.name, use.name)
                )
                return self._start(i, "tool_use", block)
            case c.ContentBlockDeltaEvent(content_block_index=i, delta=delta) if delta is not None:
                return self._delta(i, delta)
            case c.ContentBlockStopEvent(content_block_index=i):
                return self._stop_block(i)
            case c.MessageStopEvent(stop_reason=reason, additional_model_response_fields=fields):
                self._stop = a.StopInfo(stop_reason=stop_reason(reason), stop_sequence=stop_sequence(fields))
                self._stop_fields = fields
                return self._close_all()
            case c.MetadataEvent(usage=tokens) if self._stop is not None:
                return self._final(usage(tokens, self._stop_fields))
        return []

    def feed_all(self, events: list[c.StreamEvent]) -> list[a.StreamEvent]:
        """``feed`` of each event in turn, their Anthropic events in one list; none past the end."""
        out: list[a.StreamEvent] = []
        for event in events:
            out += self.feed(event)
            if self.done:
                break
        return out

    def finish(self) -> list[a.StreamEvent]:
        """Events owed when the upstream ends; raises if it ended too early."""
        if self.done:
            return []
        if self._stop is None:
            raise UpstreamFailureError("Nexus ended the stream before the message was complete")
        return self._final(a.Usage(input_tokens=self.input_estimate, output_tokens=1))

    def _plain_delta(self, event: c.ContentBlockDeltaEvent) -> list[a.StreamEvent] | None:
        """Most of a stream: more of the open block's kind, nothing held, no surrogate at the end.

        The same event the general path makes, without its pattern matching; None when the
        general path must decide (a new block, a held half pair, a signature, ...).
        """
        block = self._open.get(event.content_block_index)
        if block is None or block.held:
            return None
        delta, kind = event.delta, block.kind
        if type(delta) is c.TextChunk and kind == "text":
            text, make = delta.text, builders.text_delta
        elif type(delta) is c.ToolUseChunk and kind == "tool_use":
            text, make = delta.tool_use.input, builders.input_json_delta
        elif type(delta) is c.ReasoningDelta and kind == "thinking" and _only_text(delta.reasoning_content):
            text, make = delta.reasoning_content.text or "", builders.thinking_delta
        else:
            return None
        if not text or _is_high(text[-1]):
            return None
        return [builders.block_delta(block.index, make(_well_formed(text)))]

    def _run(self, run: c.DeltaRun) -> list[a.StreamEvent]:
        """A run's events: its plain stretches relabelled as runs, the other pieces one by one.

        The same events, piece for piece, as feeding the run's deltas one at a time.
        """
        out: list[a.StreamEvent] = []
        pieces, start = run.pieces, 0
        while start < len(pieces):
            end = self._plain_stretch(run, start)
            if end > start:
                block = self._open[run.content_block_index]
                stretch = pieces[start:end]  # the tuple itself when it is all of it
                if not "".join(stretch).isascii():
                    stretch = tuple(map(_well_formed, stretch))
                out.append(
                    a.DeltaRun(
                        type="content_block_deltas", index=block.index, kind=_RUN_DELTAS[run.kind], pieces=stretch
                    )
                )
            if end < len(pieces):  # opens the block, joins a split pair, ...: the general path
                out += self.feed(builders.converse_piece(run.content_block_index, run.kind, pieces[end]))
            start = end + 1
        return out

    def _plain_stretch(self, run: c.DeltaRun, start: int) -> int:
        """Where the pieces from ``start`` stop being what ``_plain_delta`` takes as they are."""
        block = self._open.get(run.content_block_index)
        pieces = run.pieces
        if block is None or block.held or block.kind != _RUN_BLOCKS[run.kind]:
            return start
        if not start and all(pieces) and "".join(pieces).isascii():
            return len(pieces)  # the usual run: no piece empty, no surrogate anywhere
        for at in range(start, len(pieces)):
            if not pieces[at] or _is_high(pieces[at][-1]):
                return at
        return len(pieces)

    def _start(self, converse_index: int, kind: str, block: a.ResponseBlock) -> list[a.StreamEvent]:
        events = self._stop_block(converse_index)
        self._open[converse_index] = _OpenBlock(index=self._next_index, kind=kind)
        events.append(a.ContentBlockStartEvent(type="content_block_start", index=self._next_index, content_block=block))
        self._next_index += 1
        return events

    def _ensure(self, converse_index: int, kind: str, block: a.ResponseBlock) -> list[a.StreamEvent]:
        current = self._open.get(converse_index)
        if current is not None and current.kind == kind:
            return []
        return self._start(converse_index, kind, block)

    def _delta(self, i: int, delta: c.Delta) -> list[a.StreamEvent]:
        match delta:
            case c.TextChunk(text=text):
                events = self._ensure(i, "text", a.TextBlock(type="text", text=""))
                return events + self._emit_text(i, text, builders.text_delta)
            case c.CitationDelta(citation=cited):
                # A cited block may begin with its citation, before any text.
                events = self._ensure(i, "text", a.TextBlock(type="text", text=""))
                converted = citation(cited)
                if converted is None:
                    return events
                return events + self._emit(i, a.CitationsDelta(type="citations_delta", citation=converted))
            case c.ToolUseChunk(tool_use=c.ToolUseInput(input=partial)) if i in self._open:
                return self._emit_text(i, partial, builders.input_json_delta)
            case c.ReasoningDelta(reasoning_content=c.ReasoningChunk(redacted_content=bytes() as data)):
                block = a.RedactedThinkingBlock(type="redacted_thinking", data=base64.b64encode(data).decode())
                return self._start(i, "redacted_thinking", block)
            case c.ReasoningDelta(reasoning_content=chunk):
                events = self._ensure(i, "thinking", a.ThinkingBlock(type="thinking", thinking="", signature=""))
                if chunk.text:
                    events += self._emit_text(i, chunk.text, builders.thinking_delta)
                if chunk.signature:
                    events += self._emit(i, a.SignatureDelta(type="signature_delta", signature=chunk.signature))
                return events
        return []

    def _emit(self, converse_index: int, delta: a.BlockDelta) -> list[a.StreamEvent]:
        return [builders.block_delta(self._open[converse_index].index, delta)]

    def _emit_text(self, converse_index: int, text: str, make: _Maker) -> list[a.StreamEvent]:
        """A text, thinking or tool-input delta, never holding half a surrogate pair.

        Nexus may split a pair across two deltas (it counts UTF-16 units, not characters):
        a trailing high surrogate waits for the next delta of its block.
        """
        block = self._open[converse_index]
        text, block.held = block.held + text, ""
        if text and _is_high(text[-1]):
            text, block.held, block.make = text[:-1], text[-1], make
            if not text:
                return []
        return self._emit(converse_index, make(_well_formed(text)))

    def _stop_block(self, converse_index: int) -> list[a.StreamEvent]:
        block = self._open.pop(converse_index, None)
        if block is None:
            return []
        events: list[a.StreamEvent] = []
        if block.held and block.make is not None:  # its low half never came: a character lost
            events.append(
                a.ContentBlockDeltaEvent(type="content_block_delta", index=block.index, delta=block.make(_REPLACEMENT))
            )
        events.append(a.ContentBlockStopEvent(type="content_block_stop", index=block.index))
        return events

    def _close_all(self) -> list[a.StreamEvent]:
        return [event for i in sorted(self._open) for event in self._stop_block(i)]

    def _final(self, final_usage: a.Usage) -> list[a.StreamEvent]:
        assert self._stop is not None
        self.done = True
        return [
            *self._close_all(),
            a.MessageDeltaEvent(type="message_delta", delta=self._stop, usage=final_usage),
            a.MessageStopEvent(type="message_stop"),
        ]
