"""One way to plug things in: connectors, publisher backends and output formats are registered by
name in a ``Registry``, and looked up with a Spanish error that names the choices (and the closest
one to a typo), so a configuration mistake is a ``ConfigError`` found when the configuration loads.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Generic, TypeVar

from transparencia.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind by name; ``kind`` and ``plural`` name them in messages ("tipo de fuente")."""

    def __init__(self, kind: str, plural: str):
        self.kind, self.plural = kind, plural
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> None:
        if str(name) in self._entries:
            raise ValueError(f"{self.kind} '{name}' registered twice")
        self._entries[str(name)] = entry

    def register(self, name: str) -> Callable[[T], T]:
        """``add`` as a decorator."""
        def decorate(entry: T) -> T:
            self.add(name, entry)
            return entry

        return decorate

    def get(self, name: object, where: str) -> T:
        found = self._entries.get(str(name))
        if found is None:
            close = difflib.get_close_matches(str(name), list(self._entries), n=1, cutoff=0.5)
            hint = f" (¿quiso decir '{close[0]}'?)" if close else ""
            raise ConfigError(f"{where}: {self.kind} desconocido '{name}'{hint}; {self.plural}: {', '.join(self.names())}")
        return found

    def names(self) -> list[str]:
        return sorted(self._entries)
