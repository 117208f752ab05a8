"""``transparencia template``: the Excel template a directorate fills in for an item."""

from __future__ import annotations

from pathlib import Path

import typer

from transparencia.cli import app, console, friendly_errors
from transparencia.schemas import load_catalog
from transparencia.sources.template import write_template


@app.command("template")
@friendly_errors
def template_command(
    item: str = typer.Argument(..., help="Código o nombre corto del punto (p. ej. 11.3 o planilla)."),
    output: Path = typer.Option(..., "-o", "--output", help="Archivo .xlsx que se escribirá."),
    catalog: Path | None = typer.Option(None, "--catalog", help="Archivo de catálogo propio de la institución."),
) -> None:
    """Escribe la plantilla de Excel de un punto para que la dirección la llene."""
    entry = load_catalog(catalog).get(item)
    path = write_template(entry, output)
    console.print(f"Plantilla de «{entry.name}» escrita en {path}", highlight=False)
