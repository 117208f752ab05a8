"""The compliance report as a table: one CSV per month online, a history CSV, and their Data Package.

The report is data first (``reports.compliance``); these files are one more view of the same rows,
one row per item: code, name, status (its identifier and Spanish label), reason, directorate, rows,
the public link, the last update. Like every description of a dataset as a whole, the history and
the ``datapackage.json`` are a function of what is online, never of the month that ran last: the
months are those the target holds (``Publisher.published_periods``) plus the month being published,
each read from its JSON report in the data folder or, for a month this folder never ran (published
from another machine, or before a reinstall), from the JSON report the target holds, when its bytes
are those the target records. Every online month's CSV is rendered again from its report, so a month
published before these files existed gets its CSV, and re-running an unchanged month renders the
same bytes (the publisher writes nothing).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from transparencia.domain import ItemKind, ItemStatus, OutputFormat, Period, sha256_file, write_if_changed
from transparencia.domain.jsontypes import JsonObject
from transparencia.domain.workspace import Workspace, report_file_name, report_history_file_name
from transparencia.output.csvfile import csv_text
from transparencia.publishers import datapackage
from transparencia.publishers.base import DatasetSpec, PublishedResource, Publisher, ReadBack, ResourceFile
from transparencia.publishers.names import (
    compliance_history_name,
    compliance_package_name,
    compliance_resource_name,
    report_dataset_name,
)
from transparencia.reports.compliance import (
    REPORT_TITLE,
    ComplianceReport,
    ItemReport,
    load_report,
    report_dataset,
    report_resources,
)
from transparencia.reports.console import address
from transparencia.sources.config import InstitutionConfig

log = logging.getLogger(__name__)

YES, NO = "sí", "no"


@dataclass(frozen=True)
class Column:
    """A column of the table: its Table Schema type, Spanish title and description."""

    type: str
    title: str
    description: str


COLUMNS = {
    "periodo": Column("yearmonth", "Período", "Mes del informe (AAAA-MM)."),
    "codigo": Column("string", "Código", "Código del punto de transparencia (ANTAI)."),
    "punto": Column("string", "Punto", "Nombre del punto de transparencia."),
    "tipo": Column("string", "Tipo", "datos (tabla mensual) o documento (se mantiene vigente)."),
    "frecuencia": Column("string", "Frecuencia", "Cada cuánto debe actualizarse el punto."),
    "estado": Column("string", "Estado", "Identificador del estado del punto en el mes."),
    "estado_descripcion": Column("string", "Estado (descripción)", "El estado del punto, en palabras."),
    "cumplido": Column("boolean", "Cumplido", "sí cuando el punto cuenta como cumplido en la escala de ANTAI."),
    "motivo": Column("string", "Motivo", "Por qué falta, se rechazó, venció o no aplica; o qué falló este mes."),
    "direccion": Column("string", "Dirección responsable", "La dirección que entrega el punto."),
    "filas": Column("integer", "Filas", "Filas publicadas del mes (puntos de datos)."),
    "errores": Column("integer", "Errores", "Hallazgos que impiden publicar el mes."),
    "advertencias": Column("integer", "Advertencias", "Hallazgos publicados junto con el mes."),
    "ultimo_mes_en_linea": Column("yearmonth", "Último mes en línea",
                                  "El mes más reciente del punto que el público puede leer (AAAA-MM)."),
    "ultima_actualizacion": Column("date", "Última actualización", "Última actualización del punto (AAAA-MM-DD)."),
    "enlace": Column("string", "Enlace", "Dirección pública del conjunto de datos o del documento."),
    "cambios": Column("string", "Cambios", "Qué cambió respecto al mes anterior."),
}


def report_publication(config: InstitutionConfig, report: ComplianceReport, paths: dict[str, Path],
                       publisher: Publisher) -> tuple[DatasetSpec, list[ResourceFile]]:
    """The compliance dataset and its files once ``report`` is published: the month's report (the
    ``paths`` written by ``write_report``), every online month's CSV, the history and the package.
    The description states the newest month online, whichever month is published."""
    inst = config.institution
    months = online_reports(report, publisher, config.workspace, inst.organization)
    dataset = report_dataset(months[-1], inst.organization, inst.license_id, inst.maintainer, inst.maintainer_email)
    folder = config.workspace.build_dir(inst.organization, dataset.name)
    tables = table_resources(months, dataset, config.publish.public_url, folder)
    return dataset, [*report_resources(report, paths), *tables]


def online_reports(report: ComplianceReport, publisher: Publisher, workspace: Workspace,
                   organization: str) -> list[ComplianceReport]:
    """The reports of every month the public reads once ``report`` is published, oldest first: the
    months the target holds and this one. A month online whose report this data folder lacks is read
    from the target (``read_back_reports``); one that cannot be read there either is passed over."""
    dataset = report_dataset_name(report.acronym)
    online = publisher.published_periods(organization, dataset) - {report.period}
    paths = {month: workspace.report_file(month, OutputFormat.JSON) for month in online}
    kept = [load_report(path) for path in paths.values() if path.exists()]
    lacking = sorted(month for month, path in paths.items() if not path.exists())
    if lacking and isinstance(publisher, ReadBack):
        kept += read_back_reports(publisher, organization, dataset, lacking)
    return sorted([*kept, report], key=lambda r: r.period)


def read_back_reports(reader: ReadBack, organization: str, dataset: str,
                      months: Sequence[Period]) -> list[ComplianceReport]:
    """The ``months``' JSON reports as the target holds them, each only when its bytes are those the
    target records (its sha256) and it reads as a report; the data folder is left as it is."""
    by_name = {r.name: r for r in reader.published_resources(organization, dataset) or []}
    reports = []
    for month in months:
        resource = by_name.get(compliance_resource_name(month, OutputFormat.JSON))
        report = None if resource is None else _read_back_report(reader, resource)
        if report is not None:
            reports.append(report)
    return reports


def _read_back_report(reader: ReadBack, resource: PublishedResource) -> ComplianceReport | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "informe.json"
        reader.download(resource, path)
        if resource.sha256 is not None and sha256_file(path) != resource.sha256:
            log.warning("%s: el archivo publicado no coincide con el sha256 que el destino registra; el mes no "
                        "entra en las tablas del informe.", resource.name)
            return None
        try:
            return load_report(path)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s: el archivo publicado no se puede leer como informe de cumplimiento; el mes no entra "
                        "en las tablas del informe.", resource.name)
            return None


def table_resources(reports: Sequence[ComplianceReport], dataset: DatasetSpec, public_url: str | None,
                    folder: Path) -> list[ResourceFile]:
    """Each month's CSV, the history CSV and the ``datapackage.json`` (last: the publisher completes it
    with the files its target holds), written under ``folder`` only when their bytes change."""
    folder.mkdir(parents=True, exist_ok=True)
    resources = []
    for report in reports:
        path = _write(folder / report_file_name(report.period, OutputFormat.CSV), rows(report, public_url))
        resources.append(ResourceFile(
            compliance_resource_name(report.period, OutputFormat.CSV), OutputFormat.CSV, path, sha256_file(path),
            f"Informe de cumplimiento de {report.period.label_es} como tabla: {report.headline}, un punto por "
            f"fila. CSV en UTF-8 (con BOM, se abre en Excel).", period=report.period, role="month"))
    history = _write(folder / report_history_file_name(OutputFormat.CSV),
                     [row for report in reports for row in rows(report, public_url)])
    resources.append(ResourceFile(
        compliance_history_name(), OutputFormat.CSV, history, sha256_file(history),
        f"Todos los meses publicados del informe de cumplimiento en un solo archivo ({_span(reports)}), un punto "
        f"por fila y mes. CSV en UTF-8 (con BOM, se abre en Excel)."))
    package = _package(reports, dataset, folder)
    resources.append(ResourceFile(
        compliance_package_name(), OutputFormat.JSON, package, sha256_file(package),
        "Descripción Frictionless Data Package de los CSV del informe de cumplimiento: columnas, tipos, "
        "restricciones y claves.", role="datapackage"))
    return resources


def rows(report: ComplianceReport, public_url: str | None) -> list[list[object]]:
    """The month's table, one row per item in the report's order, in ``COLUMNS`` order."""
    return [_row(report.period, item, public_url) for item in report.items]


def _row(period: Period, item: ItemReport, public_url: str | None) -> list[object]:
    values = {
        "periodo": str(period), "codigo": item.code, "punto": item.name, "tipo": ItemKind(item.kind).label,
        "frecuencia": item.frequency.label, "estado": item.status.value, "estado_descripcion": item.status.label,
        "cumplido": YES if item.fulfilled else NO, "motivo": item.detail, "direccion": item.directorate,
        "filas": item.rows, "errores": item.errors, "advertencias": item.warnings,
        "ultimo_mes_en_linea": item.last_online, "ultima_actualizacion": item.last_update,
        "enlace": address(item.url, public_url) if item.url else None, "cambios": item.changes,
    }
    return [values[name] for name in COLUMNS]


def _write(path: Path, body: list[list[object]]) -> Path:
    write_if_changed(path, csv_text([list(COLUMNS), *body]).encode("utf-8"))
    return path


def _span(reports: Sequence[ComplianceReport]) -> str:
    first, last = reports[0].period, reports[-1].period
    return str(first) if first == last else f"{first} a {last}"


def table_schema(key: Sequence[str]) -> JsonObject:
    """The Table Schema of a month's CSV (``key`` ``codigo``) and of the history (``periodo``, ``codigo``)."""
    fields: list[JsonObject] = []
    for name, column in COLUMNS.items():
        field: JsonObject = {"name": name, "type": column.type, "title": column.title,
                             "description": column.description}
        if column.type == "boolean":
            field.update(trueValues=[YES], falseValues=[NO])
        if name in key:
            field["constraints"] = {"required": True}
        if name == "estado":
            field["constraints"] = {"required": True, "enum": [status.value for status in ItemStatus]}
        fields.append(field)
    return {"fields": fields, "missingValues": [""], "primaryKey": list(key)}


def _package(reports: Sequence[ComplianceReport], dataset: DatasetSpec, folder: Path) -> Path:
    month = table_schema(("codigo",))
    tables = [datapackage.CsvTable(f"informe-cumplimiento-{r.period}", report_file_name(r.period, OutputFormat.CSV),
                                   f"{REPORT_TITLE}, {r.period.label_es}",
                                   f"{r.headline} en {r.period.label_es}: un punto por fila.", month)
              for r in reports]
    tables.append(datapackage.CsvTable(
        "informe-cumplimiento-historico", report_history_file_name(OutputFormat.CSV), f"{REPORT_TITLE} — histórico",
        "Todos los meses publicados del informe, un punto por fila y mes.", table_schema(("periodo", "codigo"))))
    descriptor = datapackage.package(dataset.name, dataset.title, dataset.notes, dataset.license_id, tables)
    return datapackage.write_package(descriptor, folder)
