"""Fixtures for the adapter tier."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo what a command run in process did to logging: our handlers, our level."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if (handler.get_name() or "").startswith("nexus-claude-api:"):
            root.removeHandler(handler)
            handler.close()
    logging.getLogger("nexus_claude_api").setLevel(logging.NOTSET)
