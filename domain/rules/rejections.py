"""Nexus rejections reworded the way Claude Code recognises, so it can repair its request.

Claude Code matches Anthropic's own error texts (anthropic.md §4.3): "prompt is too long:
N tokens > M maximum" makes it compact, "input length and `max_tokens` exceed context
limit: A + B > C" makes it lower ``max_tokens``, the thinking and system-role wordings make
it retry without the feature, and a media wording ("too much media", "image exceeds",
"image dimensions exceed") files the error as a media one. Bedrock says the same things
differently, so each family is recognised here and restated in Anthropic's words, with
Nexus's own text kept after it.

Figures are never invented: Nexus's own are passed on; when it gave none, the figure is
the proxy's estimate, or the least value Nexus's refusal implies, and the text says which.
"""

from __future__ import annotations

import re

import attrs

# Claude's context window on Nexus, and with ``context-1m-2025-08-07`` sent.
CONTEXT_LIMIT = 200_000
CONTEXT_LIMIT_1M = 1_000_000
# Regexes look at this much of Nexus's message: enough for any real wording, and a
# 44 KB message echoing the request cannot stall the relay.
_HEAD = 2048

_ALREADY_CLAUDE = re.compile(
    r"prompt is too long: \d+ tokens > \d+ maximum"
    r"|input length and `max_tokens` exceed context limit: \d+ \+ \d+ > \d+"
    r"|too much media|image exceeds|image dimensions exceed|could not process image|images exceed the api limit",
    re.IGNORECASE,
)
_TOO_MANY_MEDIA = re.compile(r"too many (images|documents)|image_count|more than \d+ (images|documents)", re.IGNORECASE)
_MANY_IMAGE_PIXELS = re.compile(r"many-image requests\D{0,10}(\d+) pixels", re.IGNORECASE)
_IMAGE_PIXELS = re.compile(r"image.{0,40}(dimension|pixels|width|height).{0,40}(exceed|max|too large)", re.I)
_IMAGE_BYTES = re.compile(r"maximum image size|image.{0,40}(too large|exceeds?.{0,20}(size|mb|bytes))", re.I)
_DOCUMENT_BYTES = re.compile(r"maximum document size|document.{0,40}(too large|exceeds?.{0,20}(size|mb|bytes))", re.I)

_OVERFLOW_FIGURES = re.compile(r"exceed.{0,20}context limit\D{0,10}(\d+) ?\+ ?(\d+) ?> ?(\d+)", re.IGNORECASE)
_TOKEN_FIGURES = re.compile(r"(\d+) tokens? ?> ?(\d+)", re.IGNORECASE)
_TOO_LONG = re.compile(
    r"input is too long|too many (total )?(text )?(bytes|tokens)|prompt is too long|context window", re.I
)
_OVERFLOW = re.compile(r"max_tokens.*(exceed|context)|exceed.*context limit", re.IGNORECASE)
_ADAPTIVE = re.compile(r"adaptive", re.IGNORECASE)
_SIGNATURE = re.compile(r"signature|thinking.*(cannot be modified|modified)", re.IGNORECASE)
_SYSTEM_ROLE = re.compile(r"role.{0,20}system|system.{0,20}role", re.IGNORECASE)
_UNSUPPORTED = re.compile(r"not supported|invalid|unexpected|not allowed|not permitted|extraneous", re.IGNORECASE)


@attrs.frozen(kw_only=True)
class RequestSize:
    """What a reworded message needs to state numbers Claude Code can act on.

    Attributes:
        input_tokens: the proxy's estimate of the request's input tokens.
        max_tokens: the ``maxTokens`` sent.
        context_limit: the context window in effect (1M once ``context-1m-2025-08-07`` went up).
        media_items: images and documents sent; Bedrock answers "too long" for oversize media too.
    """

    input_tokens: int
    max_tokens: int
    context_limit: int = CONTEXT_LIMIT
    media_items: int = 0


def _with_original(wording: str, original: str, note: str = "") -> str:
    return f"{wording} ({note}AI Nexus: {original})"


def _media(head: str) -> str | None:
    if _TOO_MANY_MEDIA.search(head):
        return (
            "too much media: Bedrock accepts at most 20 images and documents per request, at most 5 of them documents"
        )
    if many := _MANY_IMAGE_PIXELS.search(head):
        return f"image dimensions exceed the {many[1]} px per side Bedrock allows in many-image requests"
    if _IMAGE_PIXELS.search(head):
        return "image dimensions exceed what Bedrock allows (8000 px per side)"
    if _IMAGE_BYTES.search(head):
        return "image exceeds the 3.75 MB Bedrock allows per image"
    if _DOCUMENT_BYTES.search(head):
        return "too much media: a document exceeds the 4.5 MB Bedrock allows per document"
    return None


def _overflow(head: str, size: RequestSize) -> tuple[str, str]:
    """The ``max_tokens`` overflow wording, and a note saying where its figures came from."""
    if figures := _OVERFLOW_FIGURES.search(head):
        return f"input length and `max_tokens` exceed context limit: {figures[1]} + {figures[2]} > {figures[3]}", ""
    limit = size.context_limit
    # Nexus refused input + max_tokens as over the limit, so the input is at least this.
    least = max(limit - size.max_tokens + 1, 0)
    tokens = max(size.input_tokens, least)
    note = _estimate_note(size, tokens == size.input_tokens)
    return f"input length and `max_tokens` exceed context limit: {tokens} + {size.max_tokens} > {limit}", note


def _too_long(head: str, size: RequestSize) -> tuple[str, str]:
    """The prompt-too-long wording, and a note saying where its figures came from."""
    if figures := _TOKEN_FIGURES.search(head):
        tokens, limit = int(figures[1]), int(figures[2])
        if tokens > limit:
            return f"prompt is too long: {tokens} tokens > {limit} maximum", ""
    # No count from Nexus: the proxy's own estimate and the window in effect, never an
    # invented "limit + 1" (Claude Code shows these figures to the user).
    limit = size.context_limit
    tokens = size.input_tokens
    note = _estimate_note(size, True)
    if size.media_items:
        note += (
            f"the request holds {size.media_items} images or documents, and Bedrock says this of oversize ones too; "
        )
    return f"prompt is too long: {tokens} tokens > {limit} maximum", note


def _estimate_note(size: RequestSize, estimated: bool) -> str:
    if estimated:
        return "input tokens estimated by nexus-claude-api, AI Nexus gave no count; "
    return (
        "a lower bound: AI Nexus refused the input as too long without a count, "
        f"and nexus-claude-api estimated {size.input_tokens} tokens; "
    )


def _feature(head: str) -> str | None:
    if _ADAPTIVE.search(head) and _UNSUPPORTED.search(head):
        return "adaptive thinking is not supported on this model"
    if _SIGNATURE.search(head) and "thinking" in head.lower():
        return "Invalid `signature` in `thinking` block"
    if _SYSTEM_ROLE.search(head) and _UNSUPPORTED.search(head):
        return "role 'system' is not supported on this model"
    return None


def reword_rejection(message: str, size: RequestSize) -> str:
    """Claude Code's wording for a Nexus 400, or the message unchanged when none applies."""
    head = message[:_HEAD]
    if _ALREADY_CLAUDE.search(head):
        return message
    if (media := _media(head)) is not None:
        return _with_original(media, message)
    if _OVERFLOW.search(head):
        wording, note = _overflow(head, size)
        return _with_original(wording, message, note)
    if _TOO_LONG.search(head):
        wording, note = _too_long(head, size)
        return _with_original(wording, message, note)
    if (feature := _feature(head)) is not None:
        return _with_original(feature, message)
    return message
