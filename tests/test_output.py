"""The output kit: one CSV writer, one formula neutraliser, one template environment, one chart palette."""

import pyarrow as pa
import pytest

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
    svg = charts.chart("t", ["2025-01", "2025-02"], [charts.Series("Personas", [40, 41]),
                                                      charts.Series("Total", [5000, 14060], amounts=True)])
    assert "2025-02: 14,060.00</title>" in svg and ">5,000.00</text>" in svg
    assert "2025-02: 41</title>" in svg
