"""The composition root: the one place where adapters are built and wired."""

from __future__ import annotations

from typing import Any

from domain.ports import ConverseGateway
from domain.settings import Settings


def create_app(settings: Settings, gateway: ConverseGateway) -> Any:
    """Build the ASGI application around ``gateway`` (a fake in tests)."""
    raise NotImplementedError  # filled in by the HTTP adapter work


def build_app(settings: Settings) -> Any:
    """Build the ASGI application that talks to the real AI Nexus."""
    raise NotImplementedError
