"""Which models the proxy exposes, and how any Claude id resolves to one of them."""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from domain.errors import ModelNotFoundError

# Claude Code appends "[1m]" to ask for the 1M-context variant of a model.
_CONTEXT_SUFFIX = re.compile(r"\[\w+\]$")
_CLAUDE_ALIASES = {"opus", "sonnet", "haiku", "default", "best", "opusplan"}


@attrs.frozen(kw_only=True)
class ResolvedModel:
    """The model a request runs on: the id clients see and the id Nexus is called with."""

    exposed_id: str
    upstream_id: str


@attrs.frozen(kw_only=True)
class ModelCatalog:
    """The exposed models (main and small) and their Nexus ids."""

    main: str
    small: str
    upstream_ids: Mapping[str, str] = attrs.field(factory=dict)

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
        return ResolvedModel(exposed_id=exposed, upstream_id=self.upstream_id(exposed))
