#!/usr/bin/env python3
"""Lay the installed shape of the package out as symlinks, for tools that read source folders.

setuptools maps the stage folders (flows/, sources/, ...) onto ``transparencia.*`` through
``[tool.setuptools.package-dir]``; an editable install serves that mapping with an import hook that
mypy and import-linter cannot follow. This script reads the same table from pyproject.toml (so it
never drifts) and builds ``build/package/transparencia/`` with one symlink per mapped folder, the
tree a wheel would install. mypy (``mypy_path``) and import-linter (``PYTHONPATH``) read it.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "build" / "package"


def package_dirs() -> dict[str, str]:
    """pyproject's package-dir table: dotted package name -> folder relative to the root."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["setuptools"]["package-dir"]


def build_tree() -> Path:
    """A fresh tree: real folders for the packages, each file a symlink to its source.

    Folders are real because import-linter's scanner does not descend into symlinked folders.
    """
    shutil.rmtree(TREE, ignore_errors=True)
    for name, folder in package_dirs().items():
        _mirror(ROOT / folder, TREE.joinpath(*name.split(".")))
    return TREE


def _mirror(source: Path, target: Path) -> None:
    """Link every file under ``source`` into ``target``; subpackages that are mapped elsewhere are
    linked when their own entry of the table is mirrored, the same files either way."""
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            link = target / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(os.path.relpath(path, link.parent))


if __name__ == "__main__":
    print(build_tree())
