"""Typing values as directorates write them, with the account of every change."""

import datetime as dt

import pandas as pd
import pytest

from transparencia.schemas.table import load_schema
from transparencia.sources.normalise import normalise_table


def _one_column(column, values, schema="planilla"):
    raw = pd.DataFrame({column: values}, index=range(10, 10 + len(values)))
    return normalise_table(raw, load_schema(schema))


def _kinds(coercions, column):
    return {c.kind: c.count for c in coercions if c.column == column}


def test_amounts_written_as_text_become_numbers():
    values = ["B/. 1,250.00", "1.250,00", "(150.00)", 1250.5, "1,25", "1.250.000", "2500"]
    frame, coercions, failures = _one_column("salario_mensual", values)
    assert frame["salario_mensual"].tolist() == [1250.0, 1250.0, -150.0, 1250.5, 1.25, 1250000.0, 2500.0]
    assert frame["salario_mensual"].dtype == "float64"
    assert _kinds(coercions, "salario_mensual") == {"amount_text": 5, "negative_notation": 1}  # "2500" is plain
    assert failures == []


@pytest.mark.parametrize("others,read", [
    (["1,250.00", "12.50"], [1.25, 1250.0]),  # decimals with a point, as in Panama
    ([], [1.25, 1250.0]),  # nothing else to go by: the Panamanian convention
    (["1.250,00", "12,50"], [1250.0, 1.25]),  # decimals with a comma: the dot groups thousands
    (["1,250.00", "12,50"], [None, None]),  # both ways: either reading could be a thousand times off
])
def test_a_lone_group_of_three_digits_is_read_by_the_columns_convention(others, read):
    frame, coercions, failures = _one_column("salario_mensual", ["1.250", "1,250", *others])
    got = [None if pd.isna(v) else v for v in frame["salario_mensual"].iloc[:2]]
    assert got == read
    assert [(f.row, f.value) for f in failures] == ([] if read[0] else [(10, "1.250"), (11, "1,250")])
    if read == [1250.0, 1.25]:  # "1.250" is not read as written in Python: the reading is recorded
        assert _kinds(coercions, "salario_mensual")["amount_text"] == 4


def test_unreadable_amount_is_a_failure_with_row_and_expectation():
    frame, _, failures = _one_column("salario_mensual", ["mil", "100"])
    assert pd.isna(frame["salario_mensual"].iloc[0])
    assert [(f.row, f.column, f.value) for f in failures] == [(10, "salario_mensual", "mil")]
    assert "monto" in failures[0].expected


@pytest.mark.parametrize("value", [45672, 45672.0, dt.date(2025, 1, 15), dt.datetime(2025, 1, 15, 8, 30),
                                   "15/01/2025", "2025-01-15", "15 de enero de 2025", "15-ene-2025", "45672"])
def test_every_usual_date_form_is_read_day_first(value):
    frame, _, failures = _one_column("fecha_inicio", [value])
    assert failures == []
    assert frame["fecha_inicio"].iloc[0] == pd.Timestamp("2025-01-15")


def test_ambiguous_dates_are_day_first_never_month_first():
    frame, coercions, _ = _one_column("fecha_inicio", ["03/04/2025"])
    assert frame["fecha_inicio"].iloc[0] == pd.Timestamp("2025-04-03")
    assert _kinds(coercions, "fecha_inicio") == {"text_date": 1}


def test_bad_date_is_reported():
    _, _, failures = _one_column("fecha_inicio", ["31/02/2025", "ayer"])
    assert [f.value for f in failures] == ["31/02/2025", "ayer"]


@pytest.mark.parametrize("written,expected", [
    ("8 123 4567", "8-123-4567"), ("8.123.4567", "8-123-4567"), ("08-0123-04567", "8-123-4567"),
    ("e-8888-88888", "E-8888-88888"), (" pe-12-345 ", "PE-12-345"), ("8-123-4567", "8-123-4567"),
    ("81234567", "81234567"),  # ambiguous: left for validation
])
def test_cedulas_are_normalised_only_when_unambiguous(written, expected):
    frame, _, _ = _one_column("cedula", [written])
    assert frame["cedula"].iloc[0] == expected


def test_ids_typed_as_numbers_lose_no_digits_and_gain_no_decimals():
    frame, coercions, _ = _one_column("cedula", [801.0, "0801"])
    assert frame["cedula"].tolist() == ["801", "0801"]
    assert _kinds(coercions, "cedula")["number_as_text"] == 1


def test_enums_match_ignoring_case_accents_and_spaces():
    frame, coercions, _ = _one_column("condicion", ["permanente", " Interino hasta fin de ano ", "PERMANENTE", "otro"])
    assert frame["condicion"].tolist() == ["PERMANENTE", "INTERINO HASTA FIN DE AÑO", "PERMANENTE", "otro"]
    assert _kinds(coercions, "condicion")["enum_case"] == 2


def test_periods_in_several_forms_become_yyyy_mm():
    frame, _, failures = _one_column("periodo", ["2025-01", "enero 2025", "01/2025", dt.date(2025, 1, 1), "15/01/2025"])
    assert frame["periodo"].tolist() == ["2025-01"] * 5
    assert failures == []


def test_counts_are_per_row_even_when_values_repeat():
    _, coercions, _ = _one_column("condicion", ["permanente"] * 50)
    assert _kinds(coercions, "condicion") == {"enum_case": 50}


def test_all_schema_fields_in_order_with_contract_types():
    schema = load_schema("viaticos")
    raw = pd.DataFrame({"dias": ["4", 3.0, "2.5"], "monto": [1, 2, 3]}, index=[5, 6, 7])
    frame, _, failures = normalise_table(raw, schema)
    assert list(frame.columns) == schema.field_names
    assert list(frame.index) == [5, 6, 7]
    assert str(frame["dias"].dtype) == "Int64" and frame["dias"].tolist()[:2] == [4, 3]
    assert [(f.row, f.column) for f in failures] == [(7, "dias")]
    assert frame["nombre"].isna().all() and str(frame["nombre"].dtype) == "str"
    assert str(frame["fecha_salida"].dtype).startswith("datetime64")


def test_cells_of_every_kind_in_one_column_are_told_apart():
    import numpy as np

    values = [dt.datetime(2025, 1, 15, 8, 30), dt.date(2025, 1, 16), "17/01/2025", 45675, None, float("nan"), pd.NaT,
              True, np.str_("19/01/2025")]
    frame, coercions, failures = _one_column("fecha_inicio", values)
    dates = [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in frame["fecha_inicio"]]
    assert dates == ["2025-01-15", "2025-01-16", "2025-01-17", "2025-01-18", None, None, None, None, "2025-01-19"]
    assert [(f.row, f.value) for f in failures] == [(17, "True")]
    assert _kinds(coercions, "fecha_inicio") == {"text_date": 2, "excel_serial_date": 1}


def test_cedulas_held_in_several_arrow_chunks_are_normalised():
    import numpy as np
    import pyarrow as pa

    from transparencia.sources.normalise import _Account, _normalise_cedula

    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["8 123 4567", "PE-1-2"], ["08-0123-04567"]])))
    result = _normalise_cedula(chunked, _Account("cedula", np.ones(3, dtype=int)))
    assert result.tolist() == ["8-123-4567", "PE-1-2", "8-123-4567"]


def test_a_numeral_too_long_for_a_number_is_reported_not_published():
    frame, _, failures = _one_column("salario_mensual", ["1" + "0" * 400, "1250.00"])
    assert pd.isna(frame["salario_mensual"].iloc[0]) and frame["salario_mensual"].iloc[1] == 1250.0
    assert [(f.row, f.column) for f in failures] == [(10, "salario_mensual")]


@pytest.mark.parametrize("written,read", [
    ("15/01/2025", "2025-01-15"), ("5/1/2025", "2025-01-05"), ("29/02/2024", "2024-02-29"),
    ("31/02/2025", None), ("29/02/2025", None), ("00/01/2025", None), ("15/13/2025", None), ("15/01/20251", None),
])
def test_day_first_dates_are_read_as_written_and_impossible_ones_refused(written, read):
    frame, coercions, failures = _one_column("fecha_inicio", [written, "2025-01-31"])
    got = frame["fecha_inicio"].iloc[0]
    assert (None if pd.isna(got) else got.strftime("%Y-%m-%d")) == read
    assert frame["fecha_inicio"].iloc[1].strftime("%Y-%m-%d") == "2025-01-31"
    assert len(failures) == (read is None) and _kinds(coercions, "fecha_inicio") == ({"text_date": 1} if read else {})


@pytest.mark.parametrize("written,read,refused", [
    (["12/25/2024", "03/04/2025"], ["2024-12-25", "2025-03-04"], []),  # an Excel in English: month first
    (["25/12/2024", "03/04/2025"], ["2024-12-25", "2025-04-03"], []),  # day first, as Panama writes
    (["25/12/2024", "12/25/2024", "03/04/2025", "05/05/2025"], ["2024-12-25", None, None, "2025-05-05"], [12]),
    (["12/25/24", "03/04/2025"], [None, "2025-03-04"], [10]),  # month first with two-digit years: not guessed
])
def test_a_date_with_numbers_only_is_read_by_its_columns_order(written, read, refused):
    frame, coercions, failures = _one_column("fecha_inicio", written)
    got = [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in frame["fecha_inicio"]]
    assert got == read
    assert [f.row for f in failures if "ambigüedad" in f.expected] == refused
    assert len(failures) == read.count(None)  # each unread date is reported once
    if read[0] == "2024-12-25" and written[0].startswith("12/"):
        assert _kinds(coercions, "fecha_inicio") == {"month_first_date": 2}
