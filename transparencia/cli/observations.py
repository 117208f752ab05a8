"""``transparencia observaciones``: what each directorate gets back about a month, prepared again on demand."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from transparencia.cli import app, console, friendly_errors
from transparencia.domain import Period
from transparencia.flows.observations import on_demand
from transparencia.sources.config import DEFAULT_CONFIG, load_config
from transparencia.wording import count


@app.command("observaciones")
@friendly_errors
def observations_command(
    period: str = typer.Option(..., "--period", help="Mes, AAAA-MM, ya ejecutado con 'transparencia run'."),
    directorate: str | None = typer.Option(None, "--direccion", help="Solo esta dirección (su id en la configuración)."),
    output: Path | None = typer.Option(None, "-o", "--output",
                                       help="Carpeta donde escribirlas (por defecto, observaciones/AAAA-MM/ en la "
                                            "carpeta de datos)."),
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución."),
) -> None:
    """Prepara, para cada dirección con observaciones o entregas pendientes, su archivo anotado (cada celda por
    corregir marcada y comentada) y su carta (HTML y texto), a partir de la última ejecución del mes."""
    month = Period.parse(period)
    written = on_demand(load_config(config), month, directorate, output)
    if not written:
        who = "La dirección" if directorate else "Ninguna dirección"
        console.print(f"{who} no tiene observaciones ni entregas pendientes en {month.label_es}.")
        return
    for entry in written:
        pending = f", {count(len(entry.owed), 'entrega pendiente', 'entregas pendientes')}" if entry.owed else ""
        console.print(f"[bold]{escape(entry.name)}[/]: {count(entry.errors, 'error')}, "
                      f"{count(entry.warnings, 'advertencia')}{pending} → {escape(str(entry.folder))}")
        for path in (*entry.attachments, *entry.letter_paths):
            console.print(f"  {escape(path.name)}", highlight=False)
