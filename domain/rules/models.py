"""Which models the proxy exposes, and how any Claude id resolves to one of them."""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from domain.errors import ModelNotFoundError

# Claude Code appends "[1m]" to ask for the 1M-context variant of a model.
_CONTEXT_SUFFIX = re.compile(r"\[\w+\]$")
_CLAUDE_ALIASES = {"opus", "sonnet", "haiku", "default", "best", "opusplan"}
# The most output tokens each model allows (Anthropic's model table); a request shaped for
# another model (Claude Code sends 128000 for newer ids) is clamped to it. The config
# file's ``max_output_tokens`` overrides or extends this table.
MAX_OUTPUT_TOKENS = {"claude-opus-4.6": 128_000, "claude-sonnet-4.6": 64_000, "claude-haiku-4.5": 64_000}
# For an exposed model the table does not know: the smallest limit of the family.
DEFAULT_MAX_OUTPUT_TOKENS = 64_000


@attrs.frozen(kw_only=True)
class ResolvedModel:
    """The model a request runs on: the id clients see and the id Nexus is called with."""

    exposed_id: str
    upstream_id: str
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS


@attrs.frozen(kw_only=True)
class ModelCatalog:
    """The exposed models (main and small) and their Nexus ids."""

    main: str
    small: str
    upstream_ids: Mapping[str, str] = attrs.field(factory=dict)
    max_output_tokens: Mapping[str, int] = attrs.field(factory=lambda: dict(MAX_OUTPUT_TOKENS))

    @property
    def exposed(self) -> tuple[str, ...]:
        """The exposed ids, main first, without a duplicate when main and small are one model."""
        return tuple(dict.fromkeys((self.main, self.small)))

    def upstream_id(self, exposed_id: str) -> str:
        """The Nexus id for an exposed id; the id itself when no mapping is configured."""
        return self.upstream_ids.get(exposed_id, exposed_id)

    def resolve(self, requested: str) -> ResolvedModel:
        """Map any id Claude Code may send to an exposed model.

        Haiku-family ids go to the small model, every other Claude id to the main one.

        Raises:
            ModelNotFoundError: the id is not a Claude model.
        """
        name = _CONTEXT_SUFFIX.sub("", requested.strip()).lower()
        if name in self.exposed:
            exposed = name
        elif "claude" in name or name in _CLAUDE_ALIASES:
            exposed = self.small if "haiku" in name else self.main
        else:
            raise ModelNotFoundError(
                f"model: {requested!r} is not available through this proxy; available models: {', '.join(self.exposed)}"
            )
        return ResolvedModel(
            exposed_id=exposed,
            upstream_id=self.upstream_id(exposed),
            max_output_tokens=self.max_output_tokens.get(exposed, DEFAULT_MAX_OUTPUT_TOKENS),
        )
