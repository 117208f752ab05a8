"""Secrets: read at the moment of use from an environment variable or a file, never kept in the
configuration; any URL shown to people goes through ``mask_url``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from transparencia.errors import ConfigError

# A secret passed as a query parameter (``?password=``, ``&PWD=``, an ODBC string's ``PWD=...;``,
# URL-encoded or not): its value runs to the next separator.
_SECRET_PARAMETER = re.compile(
    r"((?:[?&;]|%3B|%26)\s*(?:password|passwd|pwd|pass|secret|token|api[_-]?key|access[_-]?token)\s*(?:=|%3D))"
    r"(?:(?!%3B|%26)[^&;#])*",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (``postgresql://user:***@host/db``), also when
    given as a query parameter (``?password=***``, ``?odbc_connect=...PWD%3D***``)."""
    masked = re.sub(r"^([a-zA-Z][\w+.-]*://[^:/@]*):[^?#]*@", r"\1:***@", url)
    return _SECRET_PARAMETER.sub(r"\1***", masked)


def url_has_password(url: str) -> bool:
    return mask_url(url) != url


def resolve_secret(*, env: str | None = None, file: Path | None = None, what: str) -> str:
    """Read a secret at the moment of use, from an environment variable or a file (first line)."""
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError(f"{what}: la variable de entorno {env} no está definida o está vacía")
        return value
    if file:
        try:
            lines = Path(file).read_text(encoding="utf-8").strip().splitlines()
        except OSError:
            raise ConfigError(f"{what}: no se puede leer el archivo de secreto '{file}'") from None
        if not lines or not lines[0].strip():
            raise ConfigError(f"{what}: el archivo de secreto '{file}' está vacío")
        return lines[0].strip()
    raise ConfigError(f"{what}: no se indicó ni variable de entorno ni archivo para el secreto")
