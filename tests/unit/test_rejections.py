"""Nexus 400s reworded so Claude Code's own recovery kicks in."""

from __future__ import annotations

import re

import pytest

from domain.rules.rejections import RequestSize, reword_rejection

SIZE = RequestSize(input_tokens=150_000, max_tokens=64_000)


@pytest.mark.parametrize(
    ("nexus", "claude_code_pattern"),
    [
        ("Input is too long for requested model.", r"^prompt is too long: \d+ tokens > 200000 maximum"),
        ("too many total text bytes: 9000000 > 8000000", r"^prompt is too long: \d+ tokens > \d+ maximum"),
        (
            "The model returned the following errors: input length and `max_tokens` exceed context limit: "
            "150000 + 64000 > 200000, decrease input length or `max_tokens` and try again",
            r"input length and `max_tokens` exceed context limit: 150000 \+ 64000 > 200000",
        ),
        (
            "max_tokens exceeds the model's context window",
            r"^input length and `max_tokens` exceed context limit: 150000 \+ 64000 > 200000",
        ),
        (
            "The model returned the following errors: adaptive thinking is not supported for this model",
            r"^adaptive thinking is not supported",
        ),
        ('"thinking.type.adaptive" is invalid for this model', r"^adaptive thinking is not supported"),
        (
            "The model returned the following errors: Invalid `signature` in `thinking` block",
            r"Invalid `signature` in `thinking` block",
        ),
        (
            "messages.1.content.0: thinking blocks in the latest assistant message cannot be modified",
            r"^Invalid `signature` in `thinking` block",
        ),
        ("Unexpected role 'system'. Allowed roles are user and assistant", r"^role 'system' is not supported"),
    ],
)
def test_families_claude_code_repairs(nexus: str, claude_code_pattern: str) -> None:
    reworded = reword_rejection(nexus, SIZE)
    assert re.search(claude_code_pattern, reworded), reworded
    assert nexus in reworded  # Nexus's own words are kept


def figures(reworded: str) -> tuple[int, int]:
    """What Claude Code parses out of a prompt-too-long message (anthropic.md §4.3)."""
    found = re.match(r"prompt is too long: (\d+) tokens > (\d+) maximum", reworded)
    assert found, reworded
    return int(found[1]), int(found[2])


def test_prompt_too_long_is_in_the_wording_that_triggers_compaction_with_true_figures() -> None:
    # Claude Code compacts on the phrase (tests/e2e/test_claude_code_sessions.py shows it with
    # an estimate under the limit); the figures are what the proxy knows, nothing invented.
    reworded = reword_rejection("Input is too long for requested model.", RequestSize(input_tokens=10, max_tokens=5))
    assert figures(reworded) == (10, 200_000)


def test_without_nexus_figures_a_larger_estimate_is_reported_as_an_estimate() -> None:
    size = RequestSize(input_tokens=1_234_567, max_tokens=64_000, context_limit=1_000_000)
    reworded = reword_rejection("Input is too long for requested model.", size)
    assert figures(reworded) == (1_234_567, 1_000_000)
    assert "estimated by nexus-claude-api" in reworded and "Input is too long for requested model." in reworded


def test_without_nexus_figures_a_low_estimate_is_still_the_estimate_never_an_invented_count() -> None:
    size = RequestSize(input_tokens=700_000, max_tokens=64_000, context_limit=1_000_000)
    reworded = reword_rejection("Input is too long for requested model.", size)
    # A 1M-context session is told about its own limit, not an invented 200000 or 1000001.
    assert figures(reworded) == (700_000, 1_000_000)
    assert "estimated by nexus-claude-api" in reworded


def test_nexus_token_figures_are_passed_on() -> None:
    nexus = "Input is too long for requested model: 250123 tokens > 200000"
    assert figures(reword_rejection(nexus, SIZE)) == (250_123, 200_000)


def test_media_in_a_too_long_request_are_mentioned() -> None:
    size = RequestSize(input_tokens=10, max_tokens=5, media_items=3)
    assert "holds 3 images or documents" in reword_rejection("Input is too long for requested model.", size)


def test_context_overflow_figures_from_nexus_are_restated_exactly() -> None:
    nexus = "input length and max_tokens exceed context limit: 190000 + 32000 > 200000"
    reworded = reword_rejection(nexus, SIZE)
    assert reworded.startswith("input length and `max_tokens` exceed context limit: 190000 + 32000 > 200000 (")


def test_context_overflow_without_figures_never_states_a_sum_under_the_limit() -> None:
    size = RequestSize(input_tokens=1_000, max_tokens=64_000, context_limit=1_000_000)
    reworded = reword_rejection("max_tokens exceeds the model's context window", size)
    found = re.match(r"input length and `max_tokens` exceed context limit: (\d+) \+ (\d+) > (\d+)", reworded)
    assert found and (int(found[1]), int(found[2]), int(found[3])) == (936_001, 64_000, 1_000_000)
    assert "a lower bound" in reworded


# Claude Code files a 400 as a media error only on these phrases or a block location (anthropic.md §4.3).
MEDIA_ERROR = re.compile(r"too much media|image exceeds|image dimensions exceed")


@pytest.mark.parametrize(
    ("nexus", "wording"),
    [
        ("The model returned the following errors: too many images and documents: 21 + 0 > 20", "too much media"),
        ("Sonnet 4 Converse: too many images and documents: 19 + 5 > 20", "too much media"),
        ("The model returned the following errors: messages: too many images: image_count > 20", "too much media"),
        ("You can't include more than 5 documents in a request.", "too much media"),
        (
            "image exceed max allowed size for many-image requests: 2000 pixels",
            "image dimensions exceed the 2000 px per side",
        ),
        ("The maximum document size is 4.5 MB. Reduce the size of your document and retry your request.", "4.5 MB"),
    ],
)
def test_bedrock_media_rejections_read_as_media_errors(nexus: str, wording: str) -> None:
    reworded = reword_rejection(nexus, SIZE)
    assert MEDIA_ERROR.match(reworded) and wording in reworded and reworded.endswith(f"(AI Nexus: {nexus})")
    assert "prompt is too long" not in reworded


def test_anthropic_media_wording_from_nexus_passes_unchanged() -> None:
    nexus = "messages.0.content.2.image.source.bytes: image exceeds 5 MB maximum: 7167852 bytes > 5242880 bytes"
    assert reword_rejection(nexus, SIZE) == nexus


def test_only_the_head_of_a_huge_message_is_searched() -> None:
    nexus = "Malformed input request: " + "x" * 44_000 + " Input is too long for requested model."
    assert reword_rejection(nexus, SIZE) == nexus


@pytest.mark.parametrize(
    "nexus",
    [
        "The text field in the ContentBlock object at messages.2.content.1 is blank.",
        "Malformed input request",
        "Messages can't contain duplicate document names.",
        "messages.0.content.1.source.bytes: The document source bytes could not be parsed as the specified format.",
    ],
)
def test_other_rejections_pass_through_unchanged(nexus: str) -> None:
    assert reword_rejection(nexus, SIZE) == nexus
