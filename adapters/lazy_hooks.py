"""A cattrs structure hook looked up once, on first use: shared by both wire converters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cattrs


class LazyHook:
    """A class's structure hook, looked up on first use and kept (not dispatched per value).

    Looked up late, not when the factory runs: the vocabularies are recursive (tool results
    hold blocks), and asking for a hook while cattrs builds the one it depends on would loop.
    """

    def __init__(self, converter: cattrs.Converter, cls: Any) -> None:
        self._converter = converter
        self._cls = cls
        self._hook: Callable[[Any, Any], Any] | None = None

    def __call__(self, value: Any, cls: Any) -> Any:
        """``value`` structured as ``cls`` by the class's own hook."""
        if self._hook is None:
            self._hook = self._converter.get_structure_hook(self._cls)
        return self._hook(value, cls)
