"""``transparencia items``: the mandatory items of the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from transparencia.cli import app, console, friendly_errors
from transparencia.schemas import load_catalog


@app.command("items")
@friendly_errors
def items_command(
    as_json: bool = typer.Option(False, "--json", help="Imprime la lista como JSON."),
    catalog: Path | None = typer.Option(None, "--catalog", help="Archivo de catálogo propio de la institución."),
) -> None:
    """Lista los 24 puntos obligatorios de transparencia."""
    entries = load_catalog(catalog)
    if as_json:
        print(json.dumps([i.to_dict() for i in entries], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Puntos obligatorios de transparencia ({len(entries)})")
    # The code and the short name are what the configuration needs: never cut or wrapped.
    for header in ("Código", "Nombre corto"):
        table.add_column(header, no_wrap=True)
    for header in ("Nombre", "Tipo", "Frecuencia", "Base legal", "Dirección"):
        table.add_column(header)
    for item in entries:
        name = item.name if item.applies else f"{item.name} [dim](no aplica)[/]"
        table.add_row(item.code, item.slug, name, item.kind.label, item.frequency_label, item.legal_basis,
                      item.directorate)
    console.print(table)
    console.print("En la configuración y en los comandos, un punto se nombra por su código o su nombre corto "
                  "(p. ej. 11.3 o planilla).")
