"""axe-core, the accessibility checker, fetched from the npm registry once and kept in a cache folder.

The tarball is pinned by version and checked by its sha256 (as scripts/ckan-local/start.sh does for
Solr); nothing of it is committed. ``violations`` runs it in a page opened by ``browser.DevicePage``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

AXE_VERSION = "4.10.3"
AXE_SHA256 = "0f2b4d7dcdf7d1219df8d1959ad68e565f51d14c3f0d88bb71cd59abeb956292"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "transparencia-tests" / f"axe-core-{AXE_VERSION}"
SERIOUS = ("serious", "critical")


def axe_script() -> str:
    """The text of axe.min.js, from the cache or ``npm pack axe-core@AXE_VERSION``."""
    script = CACHE / "axe.min.js"
    if not script.is_file():
        _fetch(script)
    return script.read_text(encoding="utf-8")


def _fetch(script: Path) -> None:
    if not shutil.which("npm"):
        pytest.fail("npm no está instalado (scripts/bootstrap.sh --test lo instala)")
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(["npm", "pack", "--silent", "--cache", f"{download}/npm-cache", f"axe-core@{AXE_VERSION}"],
                       cwd=download, capture_output=True, text=True, timeout=300, check=True)
        tarball = Path(download) / f"axe-core-{AXE_VERSION}.tgz"
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        assert digest == AXE_SHA256, f"axe-core {AXE_VERSION}: sha256 inesperado {digest}"
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            text = member.read()
    script.parent.mkdir(parents=True, exist_ok=True)
    partial = script.with_suffix(".part")
    partial.write_bytes(text)
    partial.replace(script)


def violations(page) -> list[str]:
    """The serious and critical axe violations of the page open in ``page`` (a ``DevicePage``), one
    line each: the rule, its impact, what it means and the first offending elements."""
    page.evaluate(axe_script())
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v =>"
                          " ({id: v.id, impact: v.impact, help: v.help,"
                          " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['nodes'])}"
            for v in found if v["impact"] in SERIOUS]
