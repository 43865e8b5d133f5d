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


def test_prompt_too_long_states_numbers_that_trigger_compaction() -> None:
    reworded = reword_rejection("Input is too long for requested model.", RequestSize(input_tokens=10, max_tokens=5))
    tokens, limit = map(int, re.findall(r"(\d+) tokens > (\d+)", reworded)[0])
    assert tokens > limit


@pytest.mark.parametrize(
    "nexus", ["The text field in the ContentBlock object at messages.2.content.1 is blank.", "Malformed input request"]
)
def test_other_rejections_pass_through_unchanged(nexus: str) -> None:
    assert reword_rejection(nexus, SIZE) == nexus
