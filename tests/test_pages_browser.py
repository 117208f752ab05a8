"""What a journalist sees, rendered by a real headless Chromium: the dataset page and the compliance report."""

import pytest
from browser import colours, dump_dom, hex_rgb, screenshot
from release_samples import publish_two_months
from test_report_compliance import _report

from transparencia.output.charts import ANTAI_COLORS, BAR_COLOR
from transparencia.reports.antai import AntaiBand
from transparencia.reports.compliance import ComplianceReport, write_report

pytestmark = pytest.mark.browser


def test_dataset_page_shows_figures_chart_changes_and_first_rows(tmp_path):
    folder = publish_two_months(tmp_path / "pub", tmp_path / "work")
    page = folder / "index.html"
    dom = dump_dom(page, tmp_path / "profile")
    assert '<h2 id="cifras">En cifras: 2025-02</h2>' in dom
    assert "Personas<strong>1</strong>" in dom and "-1 respecto a 2025-01" in dom
    assert '<img src="planilla-grafico.svg"' in dom
    assert "Altas (personas que entraron) (1)" in dom and "<td>Ana Gómez</td>" in dom
    assert "Bajas (personas que salieron) (2)" in dom and "<td>José Pérez</td>" in dom
    assert '<h2 id="vista-previa">Primeras filas de 2025-02</h2>' in dom
    assert "8-111-2222" not in dom and "8-***-2222" in dom  # the cédula as published, masked
    shot = colours(screenshot(page, tmp_path / "page.png", tmp_path / "profile"))
    # the chart image loaded: its bars' colour fills pixels of the screenshot
    assert shot[hex_rgb(BAR_COLOR)] > 500


def test_catalog_index_links_each_dataset_page(tmp_path):
    publish_two_months(tmp_path / "pub", tmp_path / "work")
    dom = dump_dom(tmp_path / "pub" / "index.html", tmp_path / "profile")
    assert 'href="servicio-nacional-de-migracion/snm-planilla/index.html"' in dom


def test_report_shows_antai_score_band_and_trend_chart(tmp_path):
    report = _report()
    history = [{"period": "2024-11", "fulfilled": 24, "applicable": 24},
               {"period": "2024-12", "fulfilled": 3, "applicable": 5}]
    report = ComplianceReport(report.institution, report.acronym, report.period, report.items, history)
    html = write_report(report, tmp_path / "out", ["html"])["html"]
    dom = dump_dom(html, tmp_path / "profile")
    assert "<strong>40 %</strong>" in dom and "Deficiente (1 %–66 %)" in dom
    assert dom.count("<rect ") == 1 + 3  # the background and one bar per month
    for period in ("nov. 2024", "dic. 2024", "ene. 2025"):
        assert f">{period}</text>" in dom
    shot = colours(screenshot(html, tmp_path / "report.png", tmp_path / "profile"))
    for band in (AntaiBand.FULL, AntaiBand.DEFICIENT):
        assert shot[hex_rgb(ANTAI_COLORS[band.value])] > 100, band
