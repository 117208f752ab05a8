"""``transparencia retirar``: take back a month published in error, with a public record of why."""

from __future__ import annotations

from pathlib import Path

import typer

from transparencia.cli import app, console, friendly_errors, run_hint
from transparencia.domain import Period, Target
from transparencia.flows.withdraw import withdraw_month
from transparencia.sources.config import DEFAULT_CONFIG


@app.command("retirar")
@friendly_errors
def withdraw_command(
    item: str = typer.Argument(..., help="Punto a retirar: código (11.6) o nombre corto (viaticos)."),
    period: str = typer.Option(..., "--period", help="Mes a retirar, AAAA-MM."),
    reason: str = typer.Option(..., "--motivo", help="Por qué se retira; se publica junto al retiro."),
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución."),
    target: str | None = typer.Option(None, "--target", help="local o ckan (por defecto, el de la configuración)."),
) -> None:
    """Retira un mes publicado por error: borra sus archivos y su tabla del destino, rehace el histórico y deja constancia pública (fecha y motivo)."""
    chosen = Target.parse(target, "--target") if target is not None else None
    result = withdraw_month(config, item, Period.parse(period), reason, chosen)
    console.print(f"Retirado el punto {result.item}, mes {result.period}, del destino {result.target}: "
                  f"{len(result.removed)} {'recurso' if len(result.removed) == 1 else 'recursos'} "
                  "borrados; el histórico se rehízo con los meses restantes.")
    if result.report_updated:
        console.print("El informe de cumplimiento del mes se actualizó y se publicó de nuevo.")
    console.print(f"Registro: {result.ledger_path}")
    console.print(f"Para publicar el mes corregido: {run_hint(result.period, config, target)}", highlight=False,
                  soft_wrap=True)
