"""Small planilla releases built by hand, typed as extractors deliver them (sources/extraction.py)."""

from __future__ import annotations

import pandas as pd

from transparencia.domain import Period, Severity
from transparencia.publishers.render import ItemRelease
from transparencia.schemas.catalog import load_catalog
from transparencia.sources.config import Institution
from transparencia.validation.findings import Finding, ValidationReport

INSTITUTION = Institution(
    name="Servicio Nacional de Migración", acronym="SNM", organization="servicio-nacional-de-migracion",
    maintainer="Oficina de Información", maintainer_email="transparencia@migracion.gob.pa",
)


def planilla_frame(period: str, rows: list[dict] | None = None) -> pd.DataFrame:
    """A planilla month: text as ``str``, amounts float64, dates datetime64, index = source rows."""
    rows = rows if rows is not None else [
        {"nombre": "María", "apellido": "Rodríguez", "cedula": "8-765-4321", "cargo": "Analista de Sistemas",
         "salario_mensual": 1250.0, "gasto_representacion": 0.0, "fecha_inicio": "2019-03-01"},
        {"nombre": "José", "apellido": "Pérez", "cedula": "PE-1234-12345", "cargo": "=HYPERLINK(\"http://x\")",
         "salario_mensual": 2500.5, "gasto_representacion": 300.0, "fecha_inicio": "2021-07-15"},
    ]
    frame = pd.DataFrame({
        "periodo": pd.Series([period] * len(rows), dtype="str"),
        "unidad_administrativa": pd.Series(["Dirección de Recursos Humanos"] * len(rows), dtype="str"),
        "nombre": pd.Series([r["nombre"] for r in rows], dtype="str"),
        "apellido": pd.Series([r["apellido"] for r in rows], dtype="str"),
        "cedula": pd.Series([r["cedula"] for r in rows], dtype="str"),
        "cargo": pd.Series([r["cargo"] for r in rows], dtype="str"),
        "condicion": pd.Series(["PERMANENTE"] * len(rows), dtype="str"),
        "salario_mensual": pd.Series([r["salario_mensual"] for r in rows], dtype="float64"),
        "gasto_representacion": pd.Series([r["gasto_representacion"] for r in rows], dtype="float64"),
        "fecha_inicio": pd.to_datetime(pd.Series([r["fecha_inicio"] for r in rows])).astype("datetime64[s]"),
    })
    frame.index = pd.RangeIndex(2, 2 + len(rows))
    return frame


def planilla_report(period: str, rows: int = 2) -> ValidationReport:
    return ValidationReport(
        item="11.3", item_name="Planilla", file="entradas/planilla.xlsx", sheet="Hoja1", rows=rows,
        period=Period.parse(period),
        findings=[
            Finding(rule="cedula_format", severity=Severity.WARNING, column="cedula", row=3, value="8-999-1234",
                    message="La cédula '8-999-1234' no tiene el formato canónico"),
            Finding(rule="required", severity=Severity.WARNING, column="apellido", row=4, value="Gómez",
                    message="Revise el apellido 'Gómez'"),
        ],
        extraction={"source": "entradas/planilla.xlsx", "header_row": 1, "column_map": {},
                    "missing_columns": [], "ignored_columns": ["Observaciones"],
                    "rows_dropped": {"total": 1}, "dropped": [{"row": 5, "reason": "total", "text": "TOTAL"}],
                    "coercions": [{"column": "cedula", "kind": "cedula_normalised", "count": 1,
                                   "examples": [["8 765 4321", "8-765-4321"]]}]},
    )


def planilla_release(period: str = "2025-01", history: pd.DataFrame | None = None,
                     frame: pd.DataFrame | None = None, privacy: dict | None = None) -> ItemRelease:
    item = load_catalog().get("planilla")
    frame = planilla_frame(period) if frame is None else frame
    return ItemRelease(
        item=item, schema=item.table_schema(), period=ItemRelease.period_of(period, item), frame=frame,
        history=frame if history is None else history, report=planilla_report(period, len(frame)),
        institution=INSTITUTION, privacy=privacy or {}, directorate="Dirección de Recursos Humanos",
    )


NEWCOMER = {"nombre": "Ana", "apellido": "Gómez", "cedula": "8-111-2222", "cargo": "Abogada",
            "salario_mensual": 1800.0, "gasto_representacion": 0.0, "fecha_inicio": "2025-02-01"}
PLANILLA_DIR = "servicio-nacional-de-migracion/snm-planilla"


def publish_two_months(root, work, privacy: dict | None = None):
    """Planilla 2025-01 (the two sample people) then 2025-02 (one newcomer) in a local catalog at ``root``;
    returns the dataset's folder."""
    from transparencia.publishers.local import LocalCatalog
    from transparencia.publishers.render import render_release

    january = planilla_frame("2025-01")
    february = planilla_frame("2025-02", [NEWCOMER])
    for release, folder in ((planilla_release("2025-01", history=january, frame=january, privacy=privacy), "a"),
                            (planilla_release("2025-02", history=pd.concat([january, february]), frame=february,
                                              privacy=privacy), "b")):
        spec, resources = render_release(release, work / folder)
        LocalCatalog(root).sync(spec, resources)
    return root / PLANILLA_DIR
