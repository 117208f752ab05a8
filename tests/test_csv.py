"""CSV files in the encodings and separators people really save them with."""

import pytest

from transparencia.schemas import load_catalog
from transparencia.sources.spreadsheet import extract_file

PLANILLA = load_catalog().get("planilla")
ROWS = [
    ["Dirección de Recursos Humanos", "", ""],
    ["Nombre", "Apellido", "Cédula", "Salario", "Fecha de inicio"],
    ["José", "Núñez", "08-0123-04567", "1250.50", "15/01/2025"],
    ["María", "Peña", "0801", "2000", "2025-01-15"],
    ["TOTAL", "", "", "3250.50", ""],
]


@pytest.mark.parametrize("encoding,separator,label", [
    ("utf-8", ",", "UTF-8"), ("utf-8-sig", ";", "UTF-8 con BOM"), ("cp1252", ";", "Windows-1252"),
    ("latin-1", ",", "Windows-1252"),  # Latin-1 letters decode identically as Windows-1252
])
def test_encodings_and_separators_are_detected(tmp_path, encoding, separator, label):
    path = tmp_path / "planilla.csv"
    text = "\r\n".join(separator.join(f'"{v}"' if separator in v else v for v in row) for row in ROWS)
    path.write_bytes(text.encode(encoding))
    extraction = extract_file(path, PLANILLA)
    frame = extraction.frame
    assert frame["apellido"].tolist() == ["Núñez", "Peña"]
    assert frame["cedula"].tolist() == ["8-123-4567", "0801"]  # leading zeros of an ID are kept
    assert frame["salario_mensual"].tolist() == [1250.5, 2000.0]
    assert list(frame.index) == [3, 4]  # CSV line numbers
    assert extraction.header_row == 2
    assert [(d.row, d.reason) for d in extraction.dropped] == [(5, "total")]
    assert any(label in note and (separator if separator != "," else "','") in note for note in extraction.notes)
    assert {c.kind for c in extraction.coercions if c.column == "salario_mensual"} == set()  # plain numerals


def test_decimal_comma_csv_with_semicolons(tmp_path):
    path = tmp_path / "planilla.csv"
    path.write_bytes("Nombre;Salario;Gasto\nAna;1.250,00;0\nEva;\"B/. 900,5\";10\n".encode("cp1252"))
    frame = extract_file(path, PLANILLA).frame
    assert frame["salario_mensual"].tolist() == [1250.0, 900.5]


def test_csv_disguised_as_xls_is_read_as_csv_and_said_so(tmp_path):
    path = tmp_path / "planilla.xls"
    path.write_bytes("Nombre,Apellido,Cédula\nAna,Ríos,8-1-1\n".encode("cp1252"))
    extraction = extract_file(path, PLANILLA)
    assert extraction.frame["apellido"].tolist() == ["Ríos"]
    assert any("'.xls'" in note and "CSV" in note for note in extraction.notes)
    assert extraction.summary()["notes"] == extraction.notes


def test_quoted_multiline_record_keeps_the_line_where_it_starts(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('Nombre,Apellido,Cargo\nAna,Ríos,"Jefa de\nsección"\nEva,Paz,Analista\n', encoding="utf-8")
    frame = extract_file(path, PLANILLA).frame
    assert list(frame.index) == [2, 4]
    assert frame["cargo"].tolist() == ["Jefa de sección", "Analista"]
