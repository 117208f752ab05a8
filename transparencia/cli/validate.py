"""``transparencia validate`` and ``transparencia extract``: check one file against its item's schema,
or write the normalised rows that would be published."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from transparencia.cli import app, console, err_console, friendly_errors
from transparencia.domain import Period
from transparencia.errors import ConfigError, InputError
from transparencia.schemas import load_catalog
from transparencia.schemas.catalog import Item
from transparencia.sources.config import DEFAULT_CONFIG, load_config
from transparencia.sources.extraction import Extraction
from transparencia.sources.registry import extract_configured
from transparencia.sources.spreadsheet import extract_file
from transparencia.validation import ValidationReport, validate
from transparencia.validation.findings import Finding
from transparencia.wording import count

SHOWN_FINDINGS = 30

ITEM_HELP = "Código (11.3) o nombre corto (planilla) del punto."
SHEET_HELP = "Hoja del libro de Excel (por defecto, la que mejor coincide con el esquema)."
CATALOG_HELP = "Archivo de catálogo propio de la institución."
PERIOD_HELP = ("Período AAAA-MM. Por defecto, el de la columna periodo; si el archivo no la trae, "
               "este período la completa.")
PERIOD_HINT = ("Sugerencia: indique el mes con --period AAAA-MM (p. ej. --period 2025-01): se comprueba que el "
               "archivo sea de ese mes y, si no trae columna de período, se completa con él.")


def _extract(item_ref: str, file: Path, sheet: str | None, catalog: Path | None,
             period: Period | None) -> tuple[Item, Extraction]:
    """Resolve the item, then read the file (unknown items and unusable files exit with 2)."""
    item = load_catalog(catalog).get(item_ref)
    item.table_schema()
    return item, extract_file(file, item, sheet=sheet, period=period)


def _extract_configured(item_ref: str, config: Path, source_id: str, period: Period | None) -> tuple[Item, Extraction]:
    """Read an item from a source of the institution configuration (a database query, a file pattern)."""
    if period is None:
        raise ConfigError("Para validar una fuente de la configuración indique el período con --period AAAA-MM.")
    institution = load_config(config)
    item = institution.catalog.get(item_ref)
    return item, extract_configured(institution, source_id, item.code, period)


@app.command("validate")
@friendly_errors
def validate_command(
    item: str = typer.Argument(..., help=ITEM_HELP),
    file: Path | None = typer.Argument(None, help="Archivo a validar (.xlsx, .xls, .ods o .csv)."),
    sheet: str | None = typer.Option(None, "--sheet", help=SHEET_HELP),
    period: str | None = typer.Option(None, "--period", help=PERIOD_HELP),
    as_json: bool = typer.Option(False, "--json", help="Imprime el resultado como un objeto JSON."),
    catalog: Path | None = typer.Option(None, "--catalog", help=CATALOG_HELP),
    source: str | None = typer.Option(None, "--source", help="Fuente de la configuración (p. ej. una base de datos) en lugar de un archivo."),
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución (con --source)."),
) -> None:
    """Valida un archivo, o una fuente configurada, contra el esquema del punto. Sale con 0 si es válido, 1 si tiene errores."""
    month = Period.parse(period) if period is not None else None
    if source is not None:
        found, extraction = _extract_configured(item, config, source, month)
    elif file is not None:
        found, extraction = _extract(item, file, sheet, catalog, month)
    else:
        raise ConfigError("Indique el archivo a validar, o una fuente de la configuración con --source.")
    report = validate(extraction, found, period=month)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(report)
    if period is None:
        err_console.print(PERIOD_HINT, highlight=False)
    if not report.valid:
        raise typer.Exit(code=1)


def _print_report(report: ValidationReport) -> None:
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = "[bold green]Válido[/]" if report.valid else "[bold red]No válido[/]"
    period = f", período {report.period}" if report.period else ""
    console.print(f"{verdict}: {count(report.rows, 'fila')}, {count(errors, 'error')}, {count(warnings, 'advertencia')} "
                  f"({escape(report.item)} {escape(report.item_name)}{escape(period)})", highlight=False)
    if report.findings:
        console.print(_findings_table(report.errors + report.warnings + report.notices))


def _findings_table(findings: list[Finding]) -> Table:
    table = Table(show_lines=False)
    for header in ("", "Archivo", "Hoja", "Celda", "Columna", "Valor", "Mensaje"):
        table.add_column(header, overflow="fold")
    for f in findings[:SHOWN_FINDINGS]:
        mark = {"error": "[red]error[/]", "warning": "[yellow]aviso[/]"}.get(f.severity, "[blue]nota[/]")
        cells = (f.file, f.sheet, f.cell or f.row, _column(f), f.value, f.message)
        table.add_row(mark, *("" if c is None else escape(str(c)) for c in cells))
    hidden = len(findings) - SHOWN_FINDINGS
    if hidden > 0:
        table.caption = f"… y {hidden:,} hallazgos más: use --json para verlos todos."
    return table


def _column(finding: Finding) -> str | None:
    """'Monto Total (monto)': the directorate's header, then the schema's field."""
    if finding.header is None or finding.header == finding.column:
        return finding.column
    return f"{finding.header} ({finding.column})"


@app.command("extract")
@friendly_errors
def extract_command(
    item: str = typer.Argument(..., help=ITEM_HELP),
    file: Path = typer.Argument(..., help="Archivo de origen (.xlsx, .xls, .ods o .csv)."),
    output: Path = typer.Option(..., "-o", "--output", help="CSV de salida (UTF-8)."),
    sheet: str | None = typer.Option(None, "--sheet", help=SHEET_HELP),
    period: str | None = typer.Option(None, "--period", help=PERIOD_HELP),
    catalog: Path | None = typer.Option(None, "--catalog", help=CATALOG_HELP),
) -> None:
    """Escribe las filas normalizadas (columnas del esquema, fechas ISO, decimales con punto)."""
    found, extraction = _extract(item, file, sheet, catalog, Period.parse(period) if period is not None else None)
    write_normalised_csv(extraction.frame, output)
    console.print(f"Se escribieron {count(extraction.rows, 'fila')} de {escape(found.name)} en {escape(str(output))}. "
                  "Valide el archivo de origen con 'transparencia validate' antes de publicarlo.", highlight=False)


def write_normalised_csv(frame: pd.DataFrame, output: Path) -> None:
    """Schema columns in schema order, ISO dates, '.' decimals, true/false, UTF-8, no index."""
    table = frame.copy()
    for name in table.columns:
        if pd.api.types.is_bool_dtype(table[name]):
            table[name] = table[name].map({True: "true", False: "false"})
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(output, index=False, encoding="utf-8", date_format="%Y-%m-%d", lineterminator="\n")
    except OSError as exc:
        raise InputError(f"No se puede escribir el archivo de salida '{output}': {exc.strerror}") from None
