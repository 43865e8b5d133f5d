"""The proxy's settings, resolved once at start-up by the entrypoint."""

from __future__ import annotations

import attrs

DEFAULT_ENDPOINT = "https://genai-nexus.api.corpinter.net"
DEFAULT_MODEL = "claude-opus-4.6"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4141

# Flags Bedrock accepts for Claude in ``additionalModelRequestFields.anthropic_beta``.
# Everything else Claude Code sends is dropped (Bedrock answers "invalid beta flag").
DEFAULT_BETA_ALLOWLIST = (
    "interleaved-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "fine-grained-tool-streaming-2025-05-14",
    "effort-2025-11-24",
    "structured-outputs-2025-11-13",
    "computer-use-2025-01-24",
    "computer-use-2025-11-24",
)


def _redacted(value: str) -> str:
    return "<set>" if value else "<unset>"


@attrs.frozen(kw_only=True)
class Settings:
    """Everything the composition root needs; ``api_key`` never appears in ``repr``."""

    api_key: str = attrs.field(repr=_redacted)
    endpoint_url: str = DEFAULT_ENDPOINT
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    model: str = DEFAULT_MODEL
    small_model: str = DEFAULT_MODEL
    # Exposed model id -> Nexus modelId, for ids Nexus spells differently.
    upstream_model_ids: dict[str, str] = attrs.field(factory=dict)
    beta_allowlist: tuple[str, ...] = DEFAULT_BETA_ALLOWLIST
    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    max_body_bytes: int = 32 * 1024 * 1024
    worker_threads: int = 64
    verbose: bool = False
