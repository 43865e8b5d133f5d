"""A tiny stdio MCP server with many tools, for Claude Code's tool search end to end.

Run as ``python mcp_lab_server.py``: newline-delimited JSON-RPC 2.0 on stdin/stdout, the
MCP stdio transport. It answers ``initialize``, ``tools/list`` (``tool_1`` ... ``tool_N``,
each with a schema long enough that sending them all is visibly costly) and ``tools/call``
(``tool_K called with <arguments>``). Standard library only, so Claude Code can start it
with the test interpreter.
"""

from __future__ import annotations

import json
import sys
from typing import Any

TOOL_COUNT = 36
RESULT_PREFIX = "lab result"


def tool(number: int) -> dict[str, Any]:
    """The definition of ``tool_<number>``."""
    return {
        "name": f"tool_{number}",
        "description": f"Lab instrument number {number}: measures sample property {number} and reports it. "
        "Use it only when the user asks for this exact instrument.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "sample": {"type": "string", "description": "The sample identifier, as printed on its label."},
                "repeat": {"type": "integer", "description": "How many measurements to average.", "minimum": 1},
                "unit": {"type": "string", "enum": ["si", "imperial"], "description": "The unit system."},
            },
            "required": ["sample"],
        },
    }


def answer(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON-RPC result for one request; None for notifications."""
    method, params = request.get("method"), request.get("params") or {}
    if "id" not in request:
        return None
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "lab", "version": "1.0.0"},
        }
    elif method == "tools/list":
        result = {"tools": [tool(n) for n in range(1, TOOL_COUNT + 1)]}
    elif method == "tools/call":
        text = f"{RESULT_PREFIX}: {params.get('name')} called with {json.dumps(params.get('arguments') or {})}"
        result = {"content": [{"type": "text", "text": text}]}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": f"no method {method}"}}
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


def main() -> None:
    """Serve until stdin closes."""
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = answer(json.loads(line))
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
