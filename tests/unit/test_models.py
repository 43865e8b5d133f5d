"""Every id Claude Code may send resolves to an exposed model; others are refused."""

from __future__ import annotations

import pytest

from domain.errors import ModelNotFoundError
from domain.rules.models import ModelCatalog

CATALOG = ModelCatalog(main="claude-opus-4.6", small="claude-haiku-4.5", upstream_ids={"claude-opus-4.6": "opus-id"})


@pytest.mark.parametrize(
    "requested",
    [
        "claude-opus-4.6",
        "claude-sonnet-4.6",
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-8",
        "claude-sonnet-5",
        "opus",
        "sonnet",
        "claude-sonnet-4-5-20250929[1m]",
        "claude-opus-4-6[1m]",
    ],
)
def test_claude_ids_resolve_to_the_main_model(requested: str) -> None:
    resolved = CATALOG.resolve(requested)
    assert (resolved.exposed_id, resolved.upstream_id) == ("claude-opus-4.6", "opus-id")


@pytest.mark.parametrize(
    "requested", ["claude-haiku-4.5", "claude-3-5-haiku-20241022", "haiku", "claude-haiku-4-5-20251001"]
)
def test_haiku_family_resolves_to_the_small_model(requested: str) -> None:
    resolved = CATALOG.resolve(requested)
    assert (resolved.exposed_id, resolved.upstream_id) == ("claude-haiku-4.5", "claude-haiku-4.5")


@pytest.mark.parametrize("requested", ["gpt-4o", "llama3", ""])
def test_non_claude_ids_are_not_found_and_the_error_names_what_exists(requested: str) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        CATALOG.resolve(requested)
    assert "claude-opus-4.6" in caught.value.message and "claude-haiku-4.5" in caught.value.message


def test_exposed_models_are_listed_once_when_main_and_small_match() -> None:
    assert ModelCatalog(main="claude-opus-4.6", small="claude-opus-4.6").exposed == ("claude-opus-4.6",)
