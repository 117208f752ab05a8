"""The output kit: one CSV writer, one formula neutraliser, one template environment, one chart palette."""

import pyarrow as pa
import pytest

from transparencia.domain import Period
from transparencia.output import charts, templates
from transparencia.output.csvfile import csv_text, write_csv
from transparencia.output.formulas import FORMULA_TRIGGERS, neutralise, neutralise_cell, neutralise_strings


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_every_trigger_is_neutralised_one_by_one_and_column_wise(trigger):
    text = f"{trigger}HYPERLINK(1)"
    assert neutralise(text) == f"'{text}"
    assert neutralise_strings(pa.array([text, "ok", None])).to_pylist() == [f"'{text}", "ok", None]


def test_numbers_and_plain_texts_are_left_as_they_are():
    assert neutralise_cell(-5) == -5 and neutralise_cell(None) is None
    assert neutralise("Planilla - enero") == "Planilla - enero"


def test_the_file_and_the_text_are_the_same_bytes(tmp_path):
    rows = [("nombre", "monto"), ("=cmd", -5), ("\tPérez", 1250.5), ("ok", None)]
    write_csv(tmp_path / "a.csv", rows)
    data = (tmp_path / "a.csv").read_bytes()
    assert data == csv_text(rows).encode("utf-8")
    assert data == "\ufeffnombre,monto\r\n'=cmd,-5\r\n'\tPérez,1250.5\r\nok,\r\n".encode()


def test_a_neutralised_table_is_written_as_given(tmp_path):
    write_csv(tmp_path / "a.csv", [("monto",), ("-5",)], neutralised=True)
    assert (tmp_path / "a.csv").read_bytes() == "\ufeffmonto\r\n-5\r\n".encode()


def test_html_templates_are_autoescaped_and_markdown_is_not(tmp_path):
    (tmp_path / "a.html.j2").write_text("{{ v }}", encoding="utf-8")
    (tmp_path / "a.md.j2").write_text("{{ v }}", encoding="utf-8")
    env = templates.environment(tmp_path, filters={"up": str.upper})
    assert env.get_template("a.html.j2").render(v="<b>") == "&lt;b&gt;"
    assert env.get_template("a.md.j2").render(v="<b>") == "<b>"
    assert env.filters["up"] is str.upper


def test_the_band_chart_uses_antai_palette_and_escapes_labels():
    svg = charts.horizontal_bars("Bandas <1>", [charts.Bar("Cumple & más", 2, "2 (50 %)", charts.ANTAI_COLORS["cumple"]),
                                                charts.Bar("Deficiente", 1, "1 (25 %)", charts.ANTAI_COLORS["deficiente"])])
    assert "Bandas &lt;1&gt;" in svg and "Cumple &amp; más" in svg
    assert 'width="420"' in svg and 'width="210"' in svg
    assert charts.ANTAI_COLORS["cumple"] in svg and charts.ANTAI_COLORS["deficiente"] in svg


def test_amounts_keep_their_cents_and_counts_stay_bare():
    """A whole amount read "14,060" next to "94,478.40": money always shows two decimals."""
    assert charts.amount(14060) == "14,060.00" and charts.amount(94478.4) == "94,478.40"
    assert charts.number(40) == "40"
    svg = charts.chart("t", [Period(2025, 1), Period(2025, 2)], [charts.Series("Personas", [40, 41]),
                                                                  charts.Series("Total", [5000, 14060], amounts=True)])
    assert "feb. 2025: 14,060.00</title>" in svg and ">5,000.00</text>" in svg
    assert "feb. 2025: 41</title>" in svg


def test_a_chart_has_a_labelled_value_axis_spanish_months_and_exact_values_on_its_bars():
    """The charts had no value axis, months as "2026-10" and values as "93.0 mil" (exact only in a tooltip)."""
    svg = charts.chart("t", [Period(2026, 9), Period(2026, 10)],
                       [charts.Series("Total de salarios", [93012.5, 14060], axis="Balboas (B/.)", amounts=True)])
    assert ">Balboas (B/.)</text>" in svg and 'rotate(-90' in svg  # the axis's title, upright beside it
    assert ">0</text>" in svg and ">50,000</text>" in svg and ">100,000</text>" in svg  # its ticks
    assert ">sept. 2026</text>" in svg and ">oct. 2026</text>" in svg and "2026-10" not in svg
    assert ">93,012.50</text>" in svg and ">14,060.00</text>" in svg and "mil</text>" not in svg


def test_exact_values_wider_than_their_bars_stand_upright_and_months_that_do_not_fit_are_thinned():
    months = [Period(2025, 1).shift(i) for i in range(20)]
    svg = charts.chart("t", months, [charts.Series("Total", [1_234_567.89] * 20, amounts=True)])
    assert svg.count(">1,234,567.89</text>") == 20 and svg.count('text-anchor="start" transform="rotate(-90') == 20
    assert ">ene. 2025</text>" in svg and ">feb. 2025</text>" not in svg  # every other month, not overlapping


def test_the_value_axis_steps_are_round():
    assert charts.scale_ticks(93_012.5) == [0, 25_000, 50_000, 75_000, 100_000]
    assert charts.scale_ticks(100) == [0, 25, 50, 75, 100] and charts.scale_ticks(0) == [0.0, 1.0]
    assert charts.scale_ticks(3) == [0, 1, 2, 3]
