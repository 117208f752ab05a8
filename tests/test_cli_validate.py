"""``transparencia validate`` / ``extract``: exit codes, JSON shape, Spanish messages, the CSV written."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner
from workbooks import write_workbook

from transparencia.cli import app

HEADER = ["Periodo", "Unidad administrativa", "Nombre", "Apellido", "Cédula", "Cargo", "Condición",
          "Salario mensual", "Gasto de representación", "Fecha de inicio"]
GOOD = ["2025-01", "Dirección de Finanzas", "María", "Rodríguez", "8-123-4567", "Analista", "PERMANENTE",
        1250.5, 0, "2019-03-01"]
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def write_csv(path: Path, *rows: list) -> Path:
    lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list], sheet: str = "Planilla", banner: bool = True) -> Path:
    """A cover sheet, then the planilla under a banner (or without it)."""
    top = [["Ministerio de Prueba — Planilla de enero 2025"], []] if banner else []
    return write_workbook(path, {"Portada": [["Este libro contiene la planilla"]], sheet: [*top, HEADER, *rows]})


def test_a_valid_workbook_exits_0_with_a_spanish_summary(tmp_path):
    path = write_xlsx(tmp_path / "planilla.xlsx", [GOOD, [*GOOD[:4], "9-1-22", *GOOD[5:]]])
    result = run("validate", "11.3", str(path))
    assert result.exit_code == 0, result.output
    assert "Válido: 2 filas, 0 errores, 0 advertencias" in result.output


def test_json_reports_errors_at_the_spreadsheet_row(tmp_path):
    bad = [*GOOD[:4], "8-123-4567-9", *GOOD[5:]]
    path = write_xlsx(tmp_path / "planilla.xlsx", [GOOD, bad])
    result = run("validate", "planilla", str(path), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert {"item", "file", "rows", "valid", "errors", "warnings", "extraction"} <= set(data)
    assert (data["item"], data["rows"], data["valid"], data["warnings"]) == ("11.3", 2, False, [])
    [error] = data["errors"]
    assert {k: error[k] for k in ("rule", "column", "row", "value")} == {
        "rule": "cedula", "column": "cedula", "row": 5, "value": "8-123-4567-9"}
    assert error["message"].startswith("La cédula '8-123-4567-9' no es válida")
    assert data["extraction"]["header_row"] == 3 and data["extraction"]["column_map"]["cedula"] == "Cédula"


def test_sheet_option_picks_the_sheet(tmp_path):
    path = write_xlsx(tmp_path / "planilla.xlsx", [GOOD], sheet="Enero")
    result = run("validate", "planilla", str(path), "--sheet", "Enero", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sheet"] == "Enero"


def test_period_option_checks_every_row(tmp_path):
    path = write_csv(tmp_path / "planilla.csv", GOOD)
    result = run("validate", "planilla", str(path), "--period", "2025-02", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["period"] == "2025-02"
    # The file's own period column says January: the whole file is refused as another month's,
    # and the row is named.
    assert [(e["rule"], e["row"]) for e in data["errors"]] == [("period-evidence", None), ("period-mismatch", 2)]
    assert "parece ser de enero de 2025" in data["errors"][0]["message"]


def test_warnings_alone_leave_the_file_valid(tmp_path):
    path = tmp_path / "viaticos.csv"
    path.write_text(
        "periodo,nombre,cargo,destino,tipo_mision,fecha_salida,fecha_regreso,dias,tarifa_diaria,monto\n"
        "2025-01,Carlos Pérez,Director,\"San José, Costa Rica\",Internacional,2024-12-30,2025-01-02,4,400.00,1600.00\n",
        encoding="utf-8")
    result = run("validate", "viaticos", str(path))
    assert result.exit_code == 0, result.output
    assert "Válido: 1 fila, 0 errores, 1 advertencia" in result.output
    assert "aviso" in result.output and "fecha_salida" in result.output


@pytest.mark.parametrize("args, words", [
    (["validate", "nada", "{file}"], "Punto desconocido 'nada'"),
    (["validate", "planilla", "{missing}"], "No se encuentra el archivo"),
    (["validate", "planilla", "{file}", "--period", "enero"], "AAAA-MM"),
    (["extract", "nada", "{file}", "-o", "{out}"], "Punto desconocido"),
])
def test_unusable_input_exits_2_with_one_spanish_line(tmp_path, args, words):
    file = write_csv(tmp_path / "planilla.csv", GOOD)
    paths = {"file": str(file), "missing": str(tmp_path / "no.xlsx"), "out": str(tmp_path / "o.csv")}
    result = run(*(a.format(**paths) for a in args))
    assert result.exit_code == 2
    assert words in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_corrupt_workbook_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "planilla.xlsx"
    path.write_bytes(b"PK\x03\x04 esto no es un libro de Excel" * 10)
    result = subprocess.run([sys.executable, "-m", "transparencia", "validate", "planilla", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith("Error:")
    assert len(result.stderr.strip().splitlines()) <= 3


def test_extract_writes_schema_columns_in_order_iso_dates_and_point_decimals(tmp_path):
    source = write_xlsx(tmp_path / "planilla.xlsx", [GOOD], banner=False)
    out = tmp_path / "salida" / "planilla.csv"
    result = run("extract", "planilla", str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("periodo,unidad_administrativa,nombre,apellido,cedula,cargo,condicion,"
                        "salario_mensual,gasto_representacion,fecha_inicio")
    assert lines[1] == "2025-01,Dirección de Finanzas,María,Rodríguez,8-123-4567,Analista,PERMANENTE,1250.5,0.0,2019-03-01"
    assert len(lines) == 2


def write_csv_without_period(path: Path) -> Path:
    lines = [",".join(HEADER[1:]), ",".join(str(v) for v in GOOD[1:])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_file_without_periodo_takes_the_given_period(tmp_path):
    source = write_csv_without_period(tmp_path / "planilla.csv")
    result = run("validate", "planilla", str(source), "--period", "2025-01", "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["valid"] is True
    filled = [c for c in report["extraction"]["coercions"] if c["column"] == "periodo"]
    assert filled and filled[0]["kind"] == "period_from_run"
    out = tmp_path / "salida.csv"
    assert run("extract", "planilla", str(source), "--period", "2025-01", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("2025-01,")


def test_a_file_without_periodo_and_no_period_names_the_missing_column(tmp_path):
    source = write_csv_without_period(tmp_path / "planilla.csv")
    result = run("validate", "planilla", str(source), "--json")
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert [e["rule"] for e in errors] == ["missing-column"]
    assert errors[0]["column"] == "periodo"
