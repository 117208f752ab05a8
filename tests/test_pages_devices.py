"""Every page type the tool writes, from a demo run, on a phone (390×844) and a laptop (1,280×800):
nothing wider than the screen, and no serious or critical accessibility violation (axe-core)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe import violations
from browser import DevicePage
from institutions import sample_institution
from test_monitor import PERIOD, PREVIOUS, published, report_dict
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.reports.monitor import Organization, build_table, render

pytestmark = [pytest.mark.browser, pytest.mark.prefect]

DEVICES = {"teléfono": (390, 844, True), "portátil": (1280, 800, False)}


@pytest.fixture(scope="module")
def pages(prefect_server, tmp_path_factory) -> dict[str, Path]:
    """The demo's two months as the officer runs them, plus a national monitor page: for each page
    type, its largest page (the widest tables and longest words)."""
    folder = tmp_path_factory.mktemp("demo")
    config = sample_institution(folder)
    result = CliRunner().invoke(app, ["demo", "--period", "2025-04", "--config", str(config)])
    assert result.exit_code == 0, result.output
    organizations = [Organization(n, f"Institución de nombre largo {n}") for n in ("alfa", "beta", "gamma")]
    table = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), organizations,
                        [published("alfa", {PERIOD: report_dict(15)}), published("beta", {PERIOD: report_dict(24)})])
    monitor = folder / "monitor" / "monitoreo-nacional.html"
    monitor.parent.mkdir()
    monitor.write_text(render(table, "html"), encoding="utf-8")
    found: dict[str, Path] = {}
    for page in sorted(folder.rglob("*.html"), key=lambda p: p.stat().st_size):
        found[_page_type(page, folder)] = page
    return found


def _page_type(page: Path, root: Path) -> str:
    """Pages of one template share their name once months and numbers are taken out; a dataset's
    page and the catalog's index are both index.html, told apart by their depth."""
    relative = page.relative_to(root)
    if page.name == "index.html":
        return "índice del catálogo" if len(relative.parts) == 2 else "página de conjunto"
    return re.sub(r"[\d-]+", "-", page.name)


def test_the_demo_writes_every_page_type(pages):
    kinds = set(pages)
    assert {"índice del catálogo", "página de conjunto", "monitoreo-nacional.html"} <= kinds, kinds
    assert any("cumplimiento" in kind for kind in kinds) and any("validacion" in kind for kind in kinds), kinds


@pytest.mark.parametrize("device", DEVICES)
def test_no_page_is_wider_than_the_screen(pages, device, tmp_path):
    width, height, mobile = DEVICES[device]
    too_wide = {}
    with DevicePage(tmp_path / "profile", width, height, mobile) as browser:
        for kind, page in pages.items():
            # against the device's width: a phone's layout viewport grows to fit an overflowing page
            laid_out = browser.open(page).evaluate("document.documentElement.scrollWidth")
            if laid_out > width:
                too_wide[kind] = laid_out
    assert not too_wide, f"páginas más anchas que la pantalla de {width} px: {too_wide}"


@pytest.mark.parametrize("device", DEVICES)
def test_no_page_has_serious_accessibility_violations(pages, device, tmp_path):
    width, height, mobile = DEVICES[device]
    with DevicePage(tmp_path / "profile", width, height, mobile) as browser:
        found = {kind: violations(browser.open(page)) for kind, page in pages.items()}
    found = {kind: lines for kind, lines in found.items() if lines}
    assert not found, "\n".join(f"{kind}: {line}" for kind, lines in found.items() for line in lines)
