"""Rendering a release: stable names, deterministic bytes, history, dictionary, report, privacy."""

import csv
import json
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from release_samples import planilla_frame, planilla_release

from transparencia.domain import Period
from transparencia.errors import ConfigError, InputError
from transparencia.publishers.render import render_release


def _by_name(resources):
    return {r.name: r for r in resources}


def _csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_resources_have_stable_spanish_names(tmp_path):
    _, resources = render_release(planilla_release(), tmp_path)
    assert [r.name for r in resources] == [
        "Planilla 2025-01 (CSV)", "Planilla 2025-01 (XLSX)", "Planilla 2025-01 (JSON)",
        "Planilla — histórico (CSV)", "Planilla — histórico (XLSX)", "Planilla — histórico (JSON)",
        "Planilla — diccionario de datos",
        "Planilla 2025-01 — informe de validación (JSON)", "Planilla 2025-01 — informe de validación (HTML)",
        "Planilla 2025-01 — cambios respecto al mes anterior (CSV)",
        "Planilla 2025-01 — cambios respecto al mes anterior (JSON)",
        "Planilla — gráfico mensual (SVG)", "Planilla — paquete de datos (datapackage.json)",
    ]
    # a month's files carry their month (its validation report and change summary too); history, dictionary,
    # chart and package none
    january = Period(2025, 1)
    assert [r.period for r in resources] == [january] * 3 + [None] * 4 + [january] * 4 + [None] * 2
    assert all(r.path.parent == tmp_path and r.path.is_file() for r in resources)


def test_render_twice_gives_identical_files(tmp_path):
    first = _by_name(render_release(planilla_release(), tmp_path / "a")[1])
    second = _by_name(render_release(planilla_release(), tmp_path / "b")[1])
    assert {n: r.sha256 for n, r in first.items()} == {n: r.sha256 for n, r in second.items()}
    rows = [r.datastore.rows_path for r in (first["Planilla 2025-01 (CSV)"], second["Planilla 2025-01 (CSV)"])]
    assert rows[0].read_bytes() == rows[1].read_bytes()


def test_dataset_spec_carries_the_portal_metadata(tmp_path):
    january, february = planilla_frame("2025-01"), planilla_frame("2025-02")
    history = pd.concat([february, january])
    spec, _ = render_release(planilla_release("2025-02", history=history, frame=february), tmp_path)
    assert spec.name == "snm-planilla"
    assert spec.title == "Planilla — Servicio Nacional de Migración"
    assert spec.organization == "servicio-nacional-de-migracion" and spec.license_id == "cc-zero"
    assert spec.maintainer == "Oficina de Información"
    assert "planilla" in spec.tags and "transparencia" in spec.tags
    assert spec.extras == {
        "frecuencia": "mensual", "cobertura temporal": "2025-01 a 2025-02",
        "base legal": "Ley 6 de 2002, art. 11", "dirección responsable": "Dirección de Recursos Humanos",
        "código del punto": "11.3",
    }
    assert "enmascarados: Cédula" in spec.notes


def test_history_holds_every_month_in_order(tmp_path):
    january, february = planilla_frame("2025-01"), planilla_frame("2025-02")
    release = planilla_release("2025-02", history=pd.concat([february, january]), frame=february)
    resources = _by_name(render_release(release, tmp_path, formats=("csv", "xlsx", "json", "parquet"))[1])
    assert [r["periodo"] for r in _csv(resources["Planilla — histórico (CSV)"].path)] == ["2025-01"] * 2 + ["2025-02"] * 2
    assert [r["periodo"] for r in _csv(resources["Planilla 2025-02 (CSV)"].path)] == ["2025-02"] * 2
    assert len(json.loads(resources["Planilla — histórico (JSON)"].path.read_text())) == 4
    assert openpyxl.load_workbook(resources["Planilla — histórico (XLSX)"].path).active.max_row == 5
    assert pq.read_table(resources["Planilla — histórico (PARQUET)"].path).num_rows == 4


def test_month_csv_carries_a_typed_datastore_table(tmp_path):
    resources = _by_name(render_release(planilla_release(), tmp_path)[1])
    table = resources["Planilla 2025-01 (CSV)"].datastore
    assert resources["Planilla 2025-01 (XLSX)"].datastore is None
    types = {f.id: f.type for f in table.fields}
    assert types == {"periodo": "text", "unidad_administrativa": "text", "nombre": "text", "apellido": "text",
                     "cedula": "text", "cargo": "text", "condicion": "text", "salario_mensual": "numeric",
                     "gasto_representacion": "numeric", "fecha_inicio": "date"}
    cedula = next(f for f in table.fields if f.id == "cedula")
    assert cedula.label == "Cédula" and "enmascarado" in cedula.notes
    rows = pq.read_table(table.rows_path).to_pylist()
    assert rows[0]["cedula"] == "8-***-4321" and rows[0]["fecha_inicio"] == "2019-03-01"
    assert table.primary_key == ()  # masked cédulas may collide: no key on them


def test_primary_key_is_kept_when_its_fields_are_published(tmp_path):
    release = planilla_release(privacy={"cedula": "publish"})
    table = _by_name(render_release(release, tmp_path)[1])["Planilla 2025-01 (CSV)"].datastore
    assert table.primary_key == ("periodo", "cedula", "cargo")


def test_no_full_cedula_leaves_in_any_published_file(tmp_path):
    render_release(planilla_release(), tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".html"):
            text = path.read_text(encoding="utf-8-sig")
            assert "8-765-4321" not in text and "8-999-1234" not in text, path.name
    report = json.loads((tmp_path / "planilla-2025-01-informe-validacion.json").read_text())
    assert report["warnings"][0]["value"] == "8-***-1234"
    assert "8-***-1234" in report["warnings"][0]["message"]
    assert report["extraction"]["coercions"][0]["examples"] == [["8-***-4321", "8-***-4321"]]


def test_omitted_fields_leave_every_file_and_the_report(tmp_path):
    release = planilla_release(privacy={"cedula": "omit", "apellido": "omit"})
    resources = _by_name(render_release(release, tmp_path)[1])
    assert "cedula" not in _csv(resources["Planilla 2025-01 (CSV)"].path)[0]
    assert "cedula" not in json.loads(resources["Planilla 2025-01 (JSON)"].path.read_text())[0]
    header = [c.value for c in openpyxl.load_workbook(resources["Planilla 2025-01 (XLSX)"].path).active[1]]
    assert "Cédula" not in header and "Apellido" not in header
    dictionary = {r["campo"]: r for r in _csv(resources["Planilla — diccionario de datos"].path)}
    assert dictionary["cedula"]["tratamiento de datos personales"].startswith("No se publica")
    assert dictionary["salario_mensual"]["tipo"] == "número"
    report = json.loads(resources["Planilla 2025-01 — informe de validación (JSON)"].path.read_text())
    assert "Gómez" not in json.dumps(report, ensure_ascii=False)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text = []

    def handle_data(self, data):
        self.text.append(data)


def test_readable_report_is_spanish_html(tmp_path):
    resources = _by_name(render_release(planilla_release(), tmp_path)[1])
    parser = _Text()
    parser.feed(resources["Planilla 2025-01 — informe de validación (HTML)"].path.read_text(encoding="utf-8"))
    text = " ".join(parser.text)
    assert "Informe de validación: Planilla, enero de 2025" in text
    assert "Advertencias (2)" in text and "fila de totales" in text and "cédulas normalizadas" in text


def test_bad_release_gives_spanish_errors(tmp_path):
    with pytest.raises(ConfigError, match="Formatos de publicación no válidos: pdf"):
        render_release(planilla_release(), tmp_path, formats=("csv", "pdf"))
    with pytest.raises(InputError, match="Período '2025-13' no válido"):
        render_release(planilla_release("2025-13"), tmp_path)
    broken = planilla_release(frame=planilla_frame("2025-01").drop(columns=["cargo"]))
    with pytest.raises(InputError, match="le faltan las columnas cargo"):
        render_release(broken, tmp_path)


def test_a_month_declared_without_movements_and_no_earlier_month_renders(tmp_path):
    empty = planilla_frame("2025-01", [])
    spec, resources = render_release(planilla_release("2025-01", history=empty, frame=empty), tmp_path)
    chart = _by_name(resources)["Planilla — gráfico mensual (SVG)"]
    assert "(2025-01 a 2025-01)" in chart.description
    assert ">ene. 2025<" in chart.path.read_text(encoding="utf-8")
    assert spec.coverage is not None and _csv(_by_name(resources)["Planilla 2025-01 (CSV)"].path) == []


def test_a_month_declared_without_movements_is_charted_as_none(tmp_path):
    january, february = planilla_frame("2025-01"), planilla_frame("2025-02", [])
    _, resources = render_release(planilla_release("2025-02", history=january, frame=february), tmp_path)
    assert "(2025-01 a 2025-02)" in _by_name(resources)["Planilla — gráfico mensual (SVG)"].description
