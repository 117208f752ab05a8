"""``transparencia verificar``: read back what is published for a month and check it against what was validated."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich import box
from rich.table import Table

from transparencia.cli import app, console, friendly_errors, run_hint
from transparencia.domain import Period, Target
from transparencia.errors import ConfigError
from transparencia.flows.verify import verify_period
from transparencia.sources.config import DEFAULT_CONFIG, load_config


@app.command("verificar")
@friendly_errors
def verify_command(
    period: str = typer.Option(..., "--period", help="Mes a verificar, AAAA-MM."),
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución."),
    target: str | None = typer.Option(None, "--target", help="ckan o local (por defecto, el de la configuración)."),
) -> None:
    """Comprueba lo publicado de un mes: cada recurso una vez, sha256 de lo descargado, filas y sumas del
    DataStore, diccionario de datos e histórico igual a la unión de los meses. Salida 0: todo coincide; 1: no."""
    month = Period.parse(period)
    institution = load_config(config)
    target = Target.parse(target, "--target") if target is not None else institution.publish.target
    checks = verify_period(institution, month, target)
    if not checks:
        raise ConfigError(f"No hay nada publicado para {month} según los registros locales: ejecute antes "
                          f"'{run_hint(month, config, target)}'.")
    table = Table(title=f"Verificación de lo publicado en {target} para {month}", box=box.SIMPLE_HEAD)
    for header in ("Punto", "Conjunto", "Comprobación", "Resultado", "Detalle"):
        table.add_column(header, overflow="fold")
    for check in checks:
        table.add_row(check.item, check.dataset, check.what,
                      "[green]correcto[/]" if check.ok else "[red]no coincide[/]", check.detail)
    console.print(table)
    failed = sum(1 for c in checks if not c.ok)
    console.print(f"{len(checks) - failed} de {len(checks)} comprobaciones correctas.")
    sys.exit(1 if failed else 0)
