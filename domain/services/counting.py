"""Counting input tokens: Nexus's CountTokens first, a local estimate when it cannot.

Claude Code sizes its context and decides when to compact from this number, and calls
it about fourteen times at once for ``/context``. An error makes it fall back to paid
``max_tokens: 1`` inference calls, so counting never fails: when Nexus cannot count for a
model (no route, no permission, model not supported, too slow), the model is remembered
as uncountable for a while and the estimate answers without a failed round trip.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from domain.errors import (
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFoundError,
    UpstreamRejectedError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from domain.rules.token_estimate import estimate_tokens
from domain.services.cooldown import Cooldown
from domain.vocab import converse as c


def _means_unavailable(error: UpstreamError) -> bool:
    # A 400 from Nexus on a count is about the model or the fields counting takes ("doesn't
    # support counting tokens", an extraneous key), the same for every request; throttling
    # and overload pass. The proxy's own 400 (``InvalidRequestError``, raised before any
    # call) is no ``UpstreamError``: it never gets here, and never marks a model.
    return isinstance(
        error,
        UpstreamRejectedError
        | UpstreamNotFoundError
        | UpstreamAuthError
        | UpstreamTimeoutError
        | UpstreamUnreachableError,
    )


@attrs.define
class TokenCounter:
    """Remembers which models Nexus cannot count for; thread-safe, as counts arrive in parallel."""

    # Models Nexus cannot count for, and until when.
    uncountable: Cooldown = attrs.field(factory=Cooldown)

    def available(self, model_id: str) -> bool:
        """False while Nexus is known unable to count for ``model_id``; the estimate is used then."""
        return not self.uncountable.on_hold(model_id)

    def count(self, model_id: str, request: c.ConverseRequest, upstream: Callable[[c.ConverseRequest], int]) -> int:
        """``upstream``'s count (Nexus CountTokens) when it can give one, else the local estimate.

        Never raises an ``UpstreamError``: a count is advice, not worth failing a turn for.
        Local validation errors (``InvalidRequestError``) pass through unchanged.
        """
        if not self.available(model_id):
            return estimate_tokens(request)
        try:
            return upstream(request)
        except UpstreamError as error:
            if _means_unavailable(error):
                self.uncountable.hold(model_id)
            return estimate_tokens(request)
