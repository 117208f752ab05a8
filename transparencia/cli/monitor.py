"""``transparencia monitor``: the month's national compliance table, read from a CKAN portal."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich import box
from rich.table import Table

from transparencia.cli import app, console, err_console, friendly_errors
from transparencia.domain import Period
from transparencia.errors import ConfigError
from transparencia.publishers.backends import portal_publisher
from transparencia.reports import monitor
from transparencia.reports.portal import PortalReader, read_reports
from transparencia.sources.secrets import resolve_secret
from transparencia.wording import count


def _portal_url(portal: str | None) -> str:
    url = (portal or os.environ.get("CKAN_URL", "")).strip()
    if not url:
        raise ConfigError("Indique el portal con --portal URL o con la variable de entorno CKAN_URL.")
    return url


def _optional_token() -> str | None:
    """The CKAN token when one is configured (reading public reports needs none)."""
    if os.environ.get("CKAN_API_TOKEN", "").strip():
        return resolve_secret(env="CKAN_API_TOKEN", what="Token de CKAN")
    if os.environ.get("CKAN_API_TOKEN_FILE", "").strip():
        return resolve_secret(file=Path(os.environ["CKAN_API_TOKEN_FILE"].strip()), what="Token de CKAN")
    return None


def _print_summary(table: monitor.NationalTable) -> None:
    summary = Table(title=f"Monitoreo nacional, {table.period.label_es}: {count(len(table.rows), 'institución')}",
                    box=box.SIMPLE_HEAD, pad_edge=False)
    summary.add_column("Banda")
    summary.add_column("Instituciones", justify="right")
    summary.add_column("%", justify="right")
    for band in table.bands():
        summary.add_row(band["label"], str(band["count"]), f"{band['share']} %")
    console.print(summary)
    for row in table.unreadable:
        err_console.print(f"[yellow]Aviso:[/] {row.institution} ({row.organization}): {row.note}", highlight=False)


@app.command("monitor")
@friendly_errors
def monitor_command(
    period: str = typer.Option(..., "--period", help="Mes del monitoreo, AAAA-MM."),
    portal: str | None = typer.Option(None, "--portal", help="Dirección del portal CKAN (por defecto, CKAN_URL)."),
    output: Path = typer.Option(Path("data/monitor"), "-o", "--output",
                                help="Carpeta donde se escribe el monitoreo (una subcarpeta por mes)."),
    publish: bool = typer.Option(False, "--publish", help="Publica el monitoreo como conjunto de datos del portal."),
    organization: str | None = typer.Option(None, "--organization",
                                            help="Organización del portal que publica el monitoreo (con --publish)."),
    only: list[str] = typer.Option([], "--only", help="Solo las organizaciones cuyo nombre coincide (p. ej. 'mun-*'); "
                                                       "se puede repetir."),
) -> None:
    """Tabla nacional de cumplimiento del mes a partir de los informes publicados en el portal (CSV, JSON, HTML, Markdown)."""
    month = Period.parse(period)
    if publish and not organization:
        raise ConfigError("Con --publish indique la organización que publica el monitoreo: --organization NOMBRE.")
    url, token = _portal_url(portal), _optional_token()
    console.print(f"Leyendo los informes de cumplimiento de {month} en {url}…")
    previous = month.shift(-1)
    organizations, reports = read_reports(PortalReader(url, token), [month, previous], only)
    if not organizations:
        raise ConfigError(f"El portal {url} no tiene organizaciones" + (" que coincidan con --only." if only else "."))
    table = monitor.build_table(month, previous, organizations, reports)
    paths = monitor.write_table(table, output / str(month))
    _print_summary(table)
    console.print(f"Monitoreo escrito en {paths['html']} (también CSV, JSON y Markdown).")
    if publish and organization:  # checked above: --publish comes with --organization
        _publish(table, paths, url, token, organization)


def _publish(table: monitor.NationalTable, paths: dict[str, Path], url: str, token: str | None,
             organization: str) -> None:
    if not token:
        raise ConfigError("Para publicar falta el token de CKAN: defina CKAN_API_TOKEN o CKAN_API_TOKEN_FILE.")
    result = portal_publisher(url, token).sync(monitor.monitor_dataset(organization), monitor.monitor_resources(table, paths))
    if result.error:
        raise ConfigError(f"No se pudo publicar el monitoreo: {result.error}")
    console.print(f"Publicado en {result.url or url} ({result.writes} escrituras).")
