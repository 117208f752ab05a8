"""Spanish wording shared by every layer that writes for people: a count with its noun agreeing."""

from __future__ import annotations

_PLURALS = {"error": "errores", "advertencia": "advertencias", "fila": "filas", "escritura": "escrituras",
            "recurso": "recursos", "archivo": "archivos", "institución": "instituciones"}


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "error")`` -> '1 error'; ``count(3, "error")`` -> '3 errores' (thousands with ',')."""
    noun = singular if n == 1 else plural or _PLURALS.get(singular, singular + "s")
    return f"{n:,} {noun}"
