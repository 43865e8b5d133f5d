"""Two Claude Code sessions, two first prompts: the bytes Nexus caches must be the same.

Claude Code 2.1.332 starts ``system`` with a billing line whose suffix differs per session;
the proxy leaves it out, so the Converse body is byte-identical up to its first cachePoint
(tools, then system, as Bedrock caches them) and a new session reads the old one's cache.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from adapters.http.anthropic_wire import structure_request
from adapters.nexus.converse_wire import request_json
from bench.claude_code_request import claude_code_request
from bench.table import Row
from domain.rules.betas import DEFAULT_BETA_ALLOWLIST
from domain.to_converse.request import translate_request


def _session(suffix: str, first_prompt: str) -> dict[str, Any]:
    body = copy.deepcopy(claude_code_request())
    body["system"][0]["text"] = f"x-anthropic-billing-header: cc_version=2.1.332.{suffix}; cc_entrypoint=sdk-cli;"
    body["messages"][0] = {"role": "user", "content": first_prompt}
    return body


def _upstream_prefix(body: dict[str, Any]) -> bytes:
    converse = request_json(translate_request(structure_request(body), beta_allowlist=DEFAULT_BETA_ALLOWLIST).request)
    cached = json.dumps({"toolConfig": converse.get("toolConfig"), "system": converse.get("system")}).encode()
    return cached[: cached.index(b"cachePoint")]


def cache_prefix_rows() -> list[Row]:
    """Whether two sessions' upstream bytes match up to the first cache point."""
    first = _upstream_prefix(_session("7ea", "fix the failing test in tests/test_app.py"))
    second = _upstream_prefix(_session("4a6", "explain what bench/run.py measures"))
    same = first == second
    return [Row("2 sessions: identical upstream bytes up to 1st cachePoint", f"{len(first)} B, {same}", "True", same)]
