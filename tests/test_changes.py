"""What changed from one month to the next: people matched on the unmasked cédula, shown as published."""

import csv
import json

import pandas as pd
import pytest
from release_samples import planilla_frame

from transparencia.domain import Period
from transparencia.publishers.changes import summarise, write_changes
from transparencia.publishers.pages import shown, signed
from transparencia.schemas.table import load_schema, schema_names

PLANILLA = load_schema("planilla")
MARIA = {"nombre": "María", "apellido": "Rodríguez", "cedula": "8-765-4321", "cargo": "Analista de Sistemas",
         "salario_mensual": 1250.0, "gasto_representacion": 0.0, "fecha_inicio": "2019-03-01"}
JOSE = {"nombre": "José", "apellido": "Pérez", "cedula": "PE-1234-12345", "cargo": "Contador",
        "salario_mensual": 2500.5, "gasto_representacion": 300.0, "fecha_inicio": "2021-07-15"}
# Same tomo-less masked shape as María's: only the name tells them apart once masked.
ROSA = {"nombre": "Rosa", "apellido": "Batista", "cedula": "8-111-4321", "cargo": "Abogada",
        "salario_mensual": 1900.0, "gasto_representacion": 0.0, "fecha_inicio": "2025-02-01"}


def _summary(january, february, privacy=None):
    history = pd.concat([planilla_frame("2025-01", january), planilla_frame("2025-02", february)])
    return summarise(PLANILLA, history, Period(2025, 2), PLANILLA.treatments(privacy), "Planilla")


def _lines(summary, kind):
    return [line for line in summary.lines if line.kind == kind]


def test_first_month_says_there_is_nothing_to_compare(tmp_path):
    history = planilla_frame("2025-01", [MARIA])
    summary = summarise(PLANILLA, history, Period(2025, 1), PLANILLA.treatments(), "Planilla")
    assert summary.previous is None and summary.lines == []
    assert summary.headline == "Primer mes publicado: no hay un mes anterior con qué comparar."
    write_changes(summary, tmp_path / "c.csv", tmp_path / "c.json")
    rows = list(csv.reader((tmp_path / "c.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1][:2] == ["sin_comparacion", summary.headline]
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["previous_period"] is None


def test_altas_bajas_and_changes_from_to():
    raised = {**MARIA, "salario_mensual": 1400.0, "gasto_representacion": 150.0}
    summary = _summary([MARIA, JOSE], [raised, ROSA])
    assert [(c.description, c.cedula, c.after) for c in _lines(summary, "alta")] == [
        ("Rosa Batista", "8-***-4321", 1900.0)]
    assert [(c.description, c.cedula, c.before) for c in _lines(summary, "baja")] == [
        ("José Pérez", "PE-***-12345", 2500.5)]
    changes = {(c.description, c.field): (c.before, c.after, c.difference) for c in _lines(summary, "cambio")}
    assert changes == {
        ("María Rodríguez", "Salario mensual (B/.)"): (1250.0, 1400.0, 150.0),
        ("María Rodríguez", "Gastos de representación (B/.)"): (0.0, 150.0, 150.0),
    }
    totals = {t.field: (t.previous, t.current, t.difference) for t in summary.totals}
    assert totals["filas"] == (2, 2, 0)
    assert totals["salario_mensual"] == (3750.5, 3300.0, -450.5)
    assert "1 alta, 1 baja" in summary.headline and "Respecto a 2025-01" in summary.headline


def test_a_new_cargo_is_a_change_of_the_same_person_not_an_alta_and_a_baja():
    promoted = {**MARIA, "cargo": "Jefa de Sistemas"}
    summary = _summary([MARIA, JOSE], [promoted, JOSE])
    assert _lines(summary, "alta") == [] and _lines(summary, "baja") == []
    [change] = _lines(summary, "cambio")
    assert (change.field, change.before, change.after) == ("Cargo", "Analista de Sistemas", "Jefa de Sistemas")


def test_masked_cedulas_never_the_only_way_to_tell_people_apart():
    """María and Rosa share the masked cédula 8-***-4321; names (published by law) tell them apart."""
    summary = _summary([MARIA], [ROSA])
    shown = [(c.description, c.cedula) for c in summary.lines if c.kind in ("alta", "baja")]
    assert shown == [("Rosa Batista", "8-***-4321"), ("María Rodríguez", "8-***-4321")]
    text = json.dumps(summary.to_dict(), ensure_ascii=False)
    assert "8-765-4321" not in text and "8-111-4321" not in text


def test_omitted_cedula_is_not_published_in_the_summary(tmp_path):
    summary = _summary([MARIA], [ROSA], privacy={"cedula": "omit"})
    write_changes(summary, tmp_path / "c.csv", tmp_path / "c.json")
    published = (tmp_path / "c.csv").read_text(encoding="utf-8-sig") + (tmp_path / "c.json").read_text()
    assert "4321" not in published and "Rosa Batista" in published


def test_headcount_and_salary_by_unit():
    january = planilla_frame("2025-01", [MARIA, JOSE])
    february = planilla_frame("2025-02", [MARIA])
    february["unidad_administrativa"] = "Dirección de Finanzas"
    summary = summarise(PLANILLA, pd.concat([january, february]), Period(2025, 2), PLANILLA.treatments())
    units = {(c.description, c.field): (c.before, c.after) for c in _lines(summary, "unidad")}
    assert units[("Dirección de Recursos Humanos", "Personas")] == (2, 0)
    assert units[("Dirección de Finanzas", "Personas")] == (0, 1)
    assert units[("Dirección de Finanzas", "Total de Salario mensual (B/.)")] == (0.0, 1250.0)
    [moved] = [c for c in _lines(summary, "cambio") if c.field == "Unidad administrativa"]
    assert (moved.before, moved.after) == ("Dirección de Recursos Humanos", "Dirección de Finanzas")


def test_amount_items_get_totals_and_largest_new_entries():
    schema = load_schema("otros-pagos")

    def month(period, rows):
        return pd.DataFrame({
            "periodo": period, "nombre": [r[0] for r in rows], "cargo": "Director",
            "unidad_administrativa": "Dirección General", "tipo_pago": "OTRO", "concepto": "x",
            "placa_vehiculo": None, "fecha_pago": pd.to_datetime([f"{period}-05"] * len(rows)),
            "monto": [r[1] for r in rows]})

    january = month("2025-01", [("Ana Ríos", 100.0), ("Luis Him", 50.0)])
    february = month("2025-02", [("Ana Ríos", 120.0), ("Omar Jaén", 900.0), ("Edith Chong", 30.0)])
    summary = summarise(schema, pd.concat([january, february]), Period(2025, 2), schema.treatments())
    totals = {t.field: (t.previous, t.current) for t in summary.totals}
    assert totals == {"filas": (2, 3), "monto": (150.0, 1050.0)}
    assert [(c.description.split(" · ")[0], c.after) for c in _lines(summary, "nuevo")] == [
        ("Omar Jaén", 900.0), ("Ana Ríos", 120.0), ("Edith Chong", 30.0)]


@pytest.mark.parametrize("previous", ["2024-11", "2024-12"])
def test_compares_with_the_latest_earlier_published_month(previous):
    history = pd.concat([planilla_frame(previous, [MARIA]), planilla_frame("2025-01", [MARIA, JOSE]),
                         planilla_frame("2025-03", [JOSE])])
    summary = summarise(PLANILLA, history, Period(2025, 1), PLANILLA.treatments())
    assert summary.previous == Period.parse(previous)
    assert [c.description for c in _lines(summary, "alta")] == ["José Pérez"]


def _hires(period, people):
    """Contratación (11.1): the month's new appointments, one row per hire."""
    return pd.DataFrame({
        "periodo": period, "unidad_administrativa": "Dirección de Finanzas", "posicion": "00245",
        "nombre": [p[0] for p in people], "apellido": [p[1] for p in people], "cedula": [p[2] for p in people],
        "cargo": "Analista", "condicion": "PERMANENTE", "salario_mensual": [p[3] for p in people],
        "fecha_inicio": pd.to_datetime([f"{period}-02"] * len(people)), "acto_nombramiento": "Resuelto 1"})


def test_event_items_report_what_is_new_not_altas_and_bajas():
    """11.1 lists each month's hires: last month's hires did not "leave", and nobody is a baja."""
    schema = load_schema("contratacion-funcionarios")
    history = pd.concat([_hires("2025-01", [("Ana", "Ríos", "8-111-1111", 900.0), ("Luis", "Him", "8-222-2222", 800.0)]),
                         _hires("2025-02", [("Omar", "Jaén", "8-333-3333", 1500.0)])])
    summary = summarise(schema, history, Period(2025, 2), schema.treatments(), "Contratación")
    assert not schema.population and not summary.population
    assert _lines(summary, "alta") == [] and _lines(summary, "baja") == [] and _lines(summary, "unidad") == []
    assert [(c.description, c.cedula, c.after) for c in _lines(summary, "nuevo")] == [
        ("Omar Jaén", "8-***-3333", 1500.0)]
    assert {t.field: (t.previous, t.current) for t in summary.totals} == {
        "filas": (2, 1), "salario_mensual": (1700.0, 1500.0)}
    assert "alta" not in summary.headline and "baja" not in summary.headline
    assert summary.to_dict()["kind"] == "eventos"


def test_only_population_items_compare_as_altas_and_bajas():
    """The schema is the one home of the distinction: planilla and gastos de representación list everyone."""
    population = sorted(n for n in schema_names() if load_schema(n).population)
    assert population == ["gastos-representacion", "planilla"]
    assert _summary([MARIA], [ROSA]).to_dict()["kind"] == "poblacion"


def test_whole_amounts_keep_their_cents_and_counts_stay_whole(tmp_path):
    """The headline, the totals, the JSON and the page write money with two decimals; counts bare."""
    summary = _summary([{**MARIA, "salario_mensual": 1000.0}], [{**MARIA, "salario_mensual": 14060.0}])
    assert "total de Salario mensual (B/.): 1,000.00 → 14,060.00" in summary.headline
    assert "personas: 1 → 1" in summary.headline
    assert summary.totals_text().startswith("2025-02: personas 1; total de Salario mensual (B/.) 14,060.00")
    unit_people = next(c for c in _lines(summary, "unidad") if c.field == "Personas")
    assert unit_people.counted and not _lines(summary, "cambio")[0].counted
    assert (shown(14060.0), signed(13060.0), shown(40, counted=True)) == ("14,060.00", "+13,060.00", "40")


def test_a_field_titled_as_a_total_is_not_a_total_of_a_total():
    """Viajes' "Total del viaje (B/.)" was shown as "Total de Total del viaje"."""
    schema = load_schema("viajes")
    titles = [t.title for t in summarise(schema, pd.DataFrame(columns=schema.field_names), Period(2025, 2),
                                         schema.treatments()).totals]
    assert "Total del viaje (B/.)" in titles and not any(t.startswith("Total de Total") for t in titles)
