"""``transparencia items``: the mandatory items of the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich import box
from rich.table import Table

from transparencia.cli import app, console, friendly_errors
from transparencia.schemas import load_catalog

WIDE = 140  # columns that fit every field of every item on one line


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
    wide = console.width >= WIDE
    table = Table(title=f"Puntos obligatorios de transparencia ({len(entries)})", box=box.SIMPLE_HEAD)
    # The code and the short name are what the configuration needs: never cut or wrapped. On a narrow
    # terminal each item keeps to one line: the name is cut short, the legal basis and directorate wait.
    columns = {"Código": [i.code for i in entries], "Nombre corto": [i.slug for i in entries],
               "Tipo": [i.kind.label for i in entries], "Frecuencia": [i.frequency_label for i in entries]}
    widths = {header: max(len(header), *map(len, values)) for header, values in columns.items()}
    for header in ("Código", "Nombre corto"):
        table.add_column(header, no_wrap=True, min_width=widths[header])
    # what the other four columns and the padding leave (two spaces for each of the five columns, and the edges)
    rest = console.width - sum(widths.values()) - 2 * (len(widths) + 1) - 4
    table.add_column("Nombre", no_wrap=not wide, overflow="fold" if wide else "ellipsis",
                     max_width=None if wide else max(rest, 8))
    for header in ("Tipo", "Frecuencia", *(("Base legal", "Dirección") if wide else ())):
        table.add_column(header, no_wrap=not wide, min_width=widths.get(header))
    for item in entries:
        name = item.name if item.applies else f"{item.name} [dim](no aplica)[/]"
        extra = (item.legal_basis, item.directorate) if wide else ()
        table.add_row(item.code, item.slug, name, item.kind.label, item.frequency_label, *extra)
    console.print(table)
    if not wide:
        console.print("Base legal y dirección de cada punto: 'transparencia items --json' o una terminal "
                      f"de {WIDE} columnas.")
    console.print("En la configuración y en los comandos, un punto se nombra por su código o su nombre corto "
                  "(p. ej. 11.3 o planilla).")
