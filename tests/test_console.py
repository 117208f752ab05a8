"""The officer's console: the month's report rendered as the Prefect artifacts show it (no Prefect here)."""

from __future__ import annotations

from transparencia.domain import ItemStatus, Period
from transparencia.flows.artifacts import ArtifactKeys
from transparencia.reports.compliance import ComplianceReport, ItemReport
from transparencia.reports.console import FINDINGS_SHOWN, findings_markdown, item_rows, links_markdown

PORTAL = "https://datosabiertos.gob.pa/dataset"


def _finding(row: int, message: str, severity: str = "error") -> dict[str, object]:
    return {"rule": "cedula", "severity": severity, "column": "cedula", "row": row, "value": None,
            "message": message, "file": "planilla_marzo.xlsx", "sheet": "Hoja1", "header": "Cédula del funcionario",
            "cell": f"C{row}"}


def _report(planilla_url: str = f"{PORTAL}/snm-planilla") -> ComplianceReport:
    items = [
        ItemReport("11.3", "Planilla", "dataset", "monthly", ItemStatus.PUBLISHED_WITH_WARNINGS,
                   "Dirección de Recursos Humanos", rows=120, warnings=1, url=planilla_url,
                   findings=[{**_finding(4, "Fecha fuera del mes | revisar", "warning"), "header": None, "cell": None}]),
        ItemReport("11.6", "Viáticos", "dataset", "monthly", ItemStatus.REJECTED, "Dirección de Finanzas", rows=10,
                   errors=2, detail="2 errores (el primero: la cédula '8-0123-04567' no es válida)",
                   findings=[_finding(7, "La cédula '8-0123-04567' no es válida"),
                             _finding(9, "La cédula 'PE-12-345' de  Ana\nno es válida")]),
        ItemReport("10.5", "Contrataciones", "dataset", "monthly", ItemStatus.NOT_RECEIVED, "Dirección de Compras",
                   detail="No llegó el archivo del período 2025-03."),
        ItemReport("O.2", "Subsidios", "dataset", "monthly", ItemStatus.NOT_APPLICABLE, "Dirección de Finanzas",
                   detail="No otorga subsidios"),
    ]
    return ComplianceReport("Servicio Nacional de Migración", "SNM", Period(2025, 3), items)


def test_item_rows_give_each_item_its_spanish_status_reason_rows_and_link():
    rows = item_rows(_report())
    assert [row["Punto"] for row in rows] == ["11.3", "11.6", "10.5", "O.2"]
    assert list(rows[0].items()) == [
        ("Punto", "11.3"), ("Estado", "Publicado con advertencias"), ("Nombre", "Planilla"), ("Filas", 120),
        ("Motivo", "—"), ("Dirección", "Dirección de Recursos Humanos"), ("Enlace", f"{PORTAL}/snm-planilla")]
    assert rows[1]["Estado"] == "Rechazado por errores de validación" and rows[1]["Filas"] == 10
    assert rows[2]["Estado"] == "Faltante" and rows[2]["Motivo"] == "No llegó el archivo del período 2025-03."
    assert rows[2]["Filas"] == "—" and rows[2]["Enlace"] == "—"


def test_item_rows_mask_a_cedula_quoted_in_a_reason():
    reason = item_rows(_report())[1]["Motivo"]
    assert "8-0123-04567" not in reason and "8-***-4567" in reason


def test_findings_are_grouped_by_directorate_with_the_directorates_own_file_and_column():
    text = findings_markdown(_report())
    assert "**SNM, marzo de 2025 (2025-03): 1 de 3 puntos cumplidos**" in text
    rrhh, finanzas = text.index("## Dirección de Recursos Humanos"), text.index("## Dirección de Finanzas")
    assert rrhh < text.index("### 11.3 Planilla") < finanzas < text.index(
        "### 11.6 Viáticos: Rechazado por errores de validación (2 errores, 0 advertencias)")
    assert "| Error | planilla_marzo.xlsx | Hoja1 | 7 | C7 | Cédula del funcionario |" in text  # its own header
    assert "| Aviso | planilla_marzo.xlsx | Hoja1 | 4 | — | cedula |" in text  # no header known: the field
    assert "Fecha fuera del mes \\| revisar" in text  # a pipe in a message does not break the table
    assert "Sin hallazgos: Dirección de Compras." in text  # O.2 does not apply: its directorate is not listed


def test_findings_never_show_a_rejected_rows_cedula():
    text = findings_markdown(_report())
    assert "8-0123-04567" not in text and "PE-12-345" not in text
    assert "La cédula '8-***-4567' no es válida" in text and "'PE-***-345' de Ana no es válida" in text


def test_findings_of_an_item_are_capped_and_the_rest_counted():
    report = _report()
    report.items[1].findings = [_finding(row, f"Fila {row} con error") for row in range(1, FINDINGS_SHOWN + 6)]
    text = findings_markdown(report)
    assert f"Fila {FINDINGS_SHOWN} con error" in text and f"Fila {FINDINGS_SHOWN + 1} con error" not in text
    assert "… y 5 hallazgos más en el informe de validación del punto." in text


def test_links_name_the_report_first_then_each_item_with_its_portal_address():
    text = links_markdown(_report(), f"{PORTAL}/snm-informe-cumplimiento")
    report_line = f"- [Informe de cumplimiento de transparencia]({PORTAL}/snm-informe-cumplimiento)"
    assert text.index(report_line) < text.index(f"- [11.3 Planilla]({PORTAL}/snm-planilla)")
    assert "10.5" not in text  # nothing published, nothing to link
    assert "catálogo local" not in text


def test_links_of_a_local_catalog_are_shown_as_its_paths_not_as_links():
    text = links_markdown(_report(planilla_url="servicio-nacional-de-migracion/snm-planilla/"),
                          "servicio-nacional-de-migracion/snm-informe-cumplimiento/")
    assert "- 11.3 Planilla: `servicio-nacional-de-migracion/snm-planilla/`" in text
    assert "](" not in text  # a relative link would open a page of the Prefect server
    assert "Las rutas sin enlace están dentro de la carpeta del catálogo local publicado." in text


def test_links_of_a_local_catalog_served_at_its_public_url_are_links_under_it():
    served = "https://www.migracion.gob.pa/transparencia/"
    report = _report(planilla_url="servicio-nacional-de-migracion/snm-planilla/")
    text = links_markdown(report, "servicio-nacional-de-migracion/snm-informe-cumplimiento/", served)
    assert f"- [11.3 Planilla]({served}servicio-nacional-de-migracion/snm-planilla/)" in text
    assert f"({served}servicio-nacional-de-migracion/snm-informe-cumplimiento/)" in text
    assert "catálogo local" not in text
    assert item_rows(report, served)[0]["Enlace"] == f"{served}servicio-nacional-de-migracion/snm-planilla/"


def test_artifact_keys_are_the_institutions_in_prefects_alphabet():
    assert ArtifactKeys.of("SNM") == ArtifactKeys("snm-puntos", "snm-hallazgos", "snm-enlaces")
    assert ArtifactKeys.of("MIDA Café").items == "mida-cafe-puntos"
