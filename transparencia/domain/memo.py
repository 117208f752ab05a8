"""What every memo of the tool shares: the fingerprint of the code, and a safe read of a kept pickle.

A memo reuses a stage's last result when everything the stage reads is the same, the code
included: the extraction memo (``sources.memo``), the validation memo (``flows.memo``) and the
render memo (``publishers.render_memo``). ``code_fingerprint`` covers every module, template and
schema of the installed package, so any change of code invalidates them all. A memo kept as a
pickle is read back by ``load_pickle``, whose unpickler builds only the package's own classes and a
few plain value types: a file planted in the data folder cannot run code, it only fails to load
(and the stage runs again).
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

# The stage folders that pyproject's package-dir table maps onto transparencia.* (a test keeps the two
# equal). An editable install serves them through an import hook, so they are not found inside
# transparencia/ there; a wheel installs them inside it.
MAPPED_STAGES = ("flows", "sources", "schemas", "validation", "publishers", "reports")
_CODE_SUFFIXES = (".py", ".j2", ".yaml", ".html")


def package_files() -> dict[str, Path]:
    """Every module, template and schema of the installed package, by its path inside the package.

    The paths are the same for an editable and a wheel install, so both give one fingerprint."""
    files: dict[str, Path] = {}
    for name in ("transparencia", *(f"transparencia.{stage}" for stage in MAPPED_STAGES)):
        spec = importlib.util.find_spec(name)
        prefix = PurePosixPath(*name.split("."))
        for location in (spec.submodule_search_locations or []) if spec else []:
            root = Path(location)
            for path in root.rglob("*"):
                if path.suffix in _CODE_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                    files[(prefix / path.relative_to(root).as_posix()).as_posix()] = path
    return files


@cache
def code_fingerprint() -> str:
    """sha256 over the package's files (``package_files``): any change of code, templates or schemas
    invalidates every memo."""
    digest = hashlib.sha256()
    for name, path in sorted(package_files().items()):
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class _OwnClassesUnpickler(pickle.Unpickler):
    """Builds the package's own classes and plain values only; any other global is refused."""

    _PLAIN: frozenset[tuple[str, str]] = frozenset({
        ("datetime", "date"), ("datetime", "datetime"), ("decimal", "Decimal"),
        ("numpy", "dtype"), ("numpy._core.multiarray", "scalar"),
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._PLAIN:
            return super().find_class(module, name)
        if module.startswith("transparencia."):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a memo")


# What a memo that cannot be read back raises: the caller runs its stage again.
UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError)


def load_pickle(handle: BinaryIO) -> Any:
    """A memo's pickle read back with only the package's own classes and plain values (``UNREADABLE``
    otherwise)."""
    return _OwnClassesUnpickler(handle).load()
