"""Structured output: Anthropic's ``output_config.format`` in the two forms Nexus may take.

Converse has a native form (``outputConfig.textFormat``, the schema as a JSON string). Not
every Nexus model is known to take it, so the same schema can also travel as a system
instruction, the form the proxy falls back to when Nexus refuses the native one.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from domain.vocab import converse as c

# Converse's ``jsonSchema.name`` pattern is strict; one fixed name always fits.
SCHEMA_NAME = "response"


def schema_json(output_format: dict[str, Any] | None) -> str | None:
    """The schema of a ``{"type": "json_schema", "schema": ...}`` format as compact JSON."""
    if not output_format or output_format.get("type", "json_schema") != "json_schema":
        return None
    schema = output_format.get("schema")
    if not isinstance(schema, dict):
        return None
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


def native_output_config(schema: str) -> c.OutputConfig:
    """``outputConfig`` asking Nexus for an answer that matches ``schema``."""
    structure = c.TextFormatStructure(json_schema=c.JsonSchemaStructure(schema=schema, name=SCHEMA_NAME))
    return c.OutputConfig(text_format=c.TextFormat(type="json_schema", structure=structure))


def instruction(schema: str) -> str:
    """The system-prompt form of the same request, for a Nexus that refuses the native one."""
    return (
        "Respond with only a JSON object that matches this JSON schema, "
        f"with no other text and no code fences: {schema}"
    )


def without_native_output(request: c.ConverseRequest) -> c.ConverseRequest | None:
    """``request`` with its native structured output turned into the instruction form.

    ``None`` when the request asks for no native structured output.
    """
    text_format = request.output_config.text_format if request.output_config else None
    if text_format is None:
        return None
    note = c.TextContent(text=instruction(text_format.structure.json_schema.schema))
    return attrs.evolve(request, system=(*(request.system or ()), note), output_config=None)
