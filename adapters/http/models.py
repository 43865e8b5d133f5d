"""``GET /v1/models`` and ``GET /v1/models/{id}``, in Anthropic's list shape."""

from __future__ import annotations

from typing import Any

import attrs
import falcon
import falcon.asgi

from domain.errors import InvalidRequestError
from domain.rules.models import ModelCatalog

# No real release date is known for Nexus's models; any fixed RFC 3339 time will do.
CREATED_AT = "2026-01-01T00:00:00Z"


def display_name(model_id: str) -> str:
    """``claude-opus-4.6`` -> ``Claude Opus 4.6``."""
    return " ".join(part.capitalize() if part.isalpha() else part for part in model_id.split("-"))


def model_info(model_id: str) -> dict[str, Any]:
    return {"type": "model", "id": model_id, "display_name": display_name(model_id), "created_at": CREATED_AT}


def _limit(req: falcon.asgi.Request) -> int:
    raw = req.get_param("limit", default="20")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InvalidRequestError("limit: must be an integer between 1 and 1000")
    return int(raw)


def page(ids: tuple[str, ...], *, limit: int, after_id: str | None, before_id: str | None) -> dict[str, Any]:
    """One page of the list; cursors past either end give an empty, final page."""
    start, stop = 0, len(ids)
    if after_id is not None:
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
    if before_id is not None:
        stop = ids.index(before_id) if before_id in ids else 0
        start = max(start, stop - limit)
    chosen = ids[start:stop][:limit]
    has_more = (start + len(chosen) < stop) if before_id is None else start > 0
    return {
        "data": [model_info(i) for i in chosen],
        "has_more": has_more,
        "first_id": chosen[0] if chosen else None,
        "last_id": chosen[-1] if chosen else None,
    }


@attrs.frozen
class ModelsResource:
    catalog: ModelCatalog

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = page(
            self.catalog.exposed,
            limit=_limit(req),
            after_id=req.get_param("after_id"),
            before_id=req.get_param("before_id"),
        )

    async def on_get_model(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, model_id: str) -> None:
        # Raises ModelNotFoundError (404) for ids that are not Claude models.
        resp.media = model_info(self.catalog.resolve(model_id).exposed_id)
