"""JSON as it arrives from outside: a portal's answer, a file this package wrote earlier.

Its keys are read by name where it is used, and nothing checks its shape on arrival, so its values
stay ``Any``: this alias says so in one place instead of hiding an ``Any`` in every signature. A
shape the package builds itself is a TypedDict or a dataclass instead.
"""

from __future__ import annotations

from typing import Any, TypeAlias

JsonObject: TypeAlias = dict[str, Any]
