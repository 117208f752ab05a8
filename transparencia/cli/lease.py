"""``transparencia desbloquear``: break the institution's publishing lease on the portal by hand."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from transparencia.cli import app, console, friendly_errors
from transparencia.domain import Target
from transparencia.errors import ConfigError
from transparencia.publishers.backends import publisher
from transparencia.publishers.base import PortalSession
from transparencia.sources.config import DEFAULT_CONFIG, load_config

log = logging.getLogger("transparencia.desbloquear")


@app.command("desbloquear")
@friendly_errors
def unlock_command(
    reason: str = typer.Option(..., "--motivo", help="Por qué se rompe el bloqueo; queda registrado en el portal."),
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución."),
    target: str | None = typer.Option(None, "--target", help="Portal del bloqueo: ckan (por defecto, el de la "
                                                             "configuración)."),
) -> None:
    """Rompe el bloqueo de publicación de la institución en el portal: muestra quién lo tiene, lo rompe y registra el motivo."""
    reason = " ".join(reason.split())
    if not reason:
        raise ConfigError("Indique el motivo con --motivo \"…\": queda registrado junto al bloqueo roto.")
    institution = load_config(config)
    chosen = Target.parse(target, "--target") if target is not None else institution.publish.target
    portal = publisher(institution, chosen)
    if not isinstance(portal, PortalSession):
        raise ConfigError(f"El destino {chosen} no tiene bloqueo de publicación: solo un portal compartido lo tiene.")
    organization = institution.institution.organization
    holder = portal.break_lease(organization, reason)
    if holder is None:
        console.print(f"La organización '{organization}' no tenía ningún bloqueo de publicación: no había nada que "
                      "romper.", highlight=False, soft_wrap=True)
        return
    log.warning("Bloqueo de publicación de '%s' roto a mano (%s): lo tenía %s.", organization, reason, holder)
    console.print(f"Bloqueo de publicación de '{organization}' roto. Lo tenía {holder}.\nMotivo registrado en el "
                  f"conjunto de control del portal: {reason}\nSi esa ejecución seguía en curso, ya no escribe nada "
                  "más en el portal; vuelva a publicar el mes que estaba publicando.", highlight=False, soft_wrap=True)
