"""``transparencia template``: the Excel template a directorate fills in for an item, filled for the
institution, the directorate and the month when a configuration is given, so the officer can send it."""

from __future__ import annotations

from pathlib import Path

import typer

from transparencia.cli import app, console, friendly_errors
from transparencia.domain import Period
from transparencia.schemas import load_catalog
from transparencia.sources.config import DEFAULT_CONFIG, load_config
from transparencia.sources.template import Delivery, delivery_for, write_template


@app.command("template")
@friendly_errors
def template_command(
    item: str = typer.Argument(..., help="Código o nombre corto del punto (p. ej. 11.3 o planilla)."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="Archivo .xlsx que se escribirá (o una carpeta: con el nombre que debe tener)."),
    catalog: Path | None = typer.Option(None, "--catalog", help="Archivo de catálogo propio de la institución."),
    config: Path | None = typer.Option(None, "--config", help="Configuración de la institución: la plantilla "
                                       "dice la institución, la dirección, el plazo y el nombre del archivo."),
    period: str | None = typer.Option(None, "--period", help="Mes que se entrega, AAAA-MM (por defecto, el mes "
                                      "anterior; con --config)."),
    directorate: str | None = typer.Option(None, "--direccion", help="Dirección que la llena (id de la "
                                           "configuración; por defecto, la que entrega el punto)."),
) -> None:
    """Escribe la plantilla de Excel de un punto para que la dirección la llene."""
    delivery = None
    if config is not None or period is not None or directorate is not None:
        institution = load_config(config or DEFAULT_CONFIG)
        entry = institution.catalog.get(item)
        month = Period.parse(period) if period is not None else Period.previous()
        delivery = delivery_for(institution, entry, month, directorate)
    else:
        entry = load_catalog(catalog).get(item)
    path = write_template(entry, _target(output, entry.slug, delivery), delivery)
    console.print(f"Plantilla de «{entry.name}» escrita en {path}", highlight=False)
    if delivery is not None:
        console.print(f"Para {delivery.directorate}, período {delivery.period}; plazo: {delivery.deadline.label_es}.",
                      highlight=False)


def _target(output: Path, slug: str, delivery: Delivery | None) -> Path:
    """``output``, or inside a folder the name the directorate's file must have."""
    if not output.is_dir():
        return output
    if delivery is not None and delivery.file_name and delivery.file_name.lower().endswith(".xlsx"):
        return output / delivery.file_name
    return output / (f"plantilla-{slug}-{delivery.period}.xlsx" if delivery is not None else f"plantilla-{slug}.xlsx")
