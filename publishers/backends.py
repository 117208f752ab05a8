"""Publisher backends registered by their target name, each built from the institution configuration.

A backend's settings are the configuration's typed ``publish`` section (``PublishSettings``, and
``CkanSettings`` for ``ckan``), validated when the configuration loads; a new backend is one
function registered here plus its ``Target`` member.

The CKAN portal is decided here, once (``ckan_connection``): the environment's ``CKAN_URL`` (with
``CKAN_API_TOKEN`` or ``CKAN_API_TOKEN_FILE``) wins over ``publish.ckan``, so the local test CKAN or
a CI job can point any institution's configuration at another portal without editing it; the
override is logged, and a configuration without ``publish.ckan`` takes the portal from the
environment alone. The portal's public address comes from the same place: ``CKAN_PUBLIC_URL`` with
``CKAN_URL``, ``publish.ckan.public_url`` with the section; without one, the portal's own address
when it is a public one (``CkanPublisher``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from transparencia.domain import Target
from transparencia.domain.registry import Registry
from transparencia.errors import ConfigError
from transparencia.publishers.base import Publisher, WriteListener
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_datastore import MAX_BODY_BYTES
from transparencia.publishers.local import LocalCatalog
from transparencia.sources.config import CkanSettings, InstitutionConfig
from transparencia.sources.secrets import resolve_secret

log = logging.getLogger(__name__)

# A write listener (``on_write``) hears each write call a backend makes (the run ledger's journal).
BackendFactory = Callable[[InstitutionConfig, WriteListener | None], Publisher]
BACKENDS: Registry[BackendFactory] = Registry("destino de publicación", "destinos")


@BACKENDS.register(Target.LOCAL)
def _local(config: InstitutionConfig, on_write: WriteListener | None) -> Publisher:
    return LocalCatalog(config.publish.local_dir, config.publish.public_url)


@BACKENDS.register(Target.CKAN)
def _ckan(config: InstitutionConfig, on_write: WriteListener | None) -> Publisher:
    url, token = ckan_connection(config.publish.ckan)
    max_body = config.publish.ckan.max_body if config.publish.ckan is not None else None
    return CkanPublisher(url, token, public_url=ckan_public_url(config.publish.ckan), on_write=on_write,
                         max_body=max_body or MAX_BODY_BYTES)


def ckan_connection(settings: CkanSettings | None) -> tuple[str, str]:
    """The portal's address and token: ``CKAN_URL`` in the environment wins over ``settings``."""
    overriding = os.environ.get("CKAN_URL")
    if settings is None or overriding:
        if settings is not None:
            log.info("CKAN_URL del entorno (%s) reemplaza a publish.ckan de la configuración.", overriding)
        return _environment_connection()
    return settings.resolve_url(), settings.resolve_token()


def ckan_public_url(settings: CkanSettings | None) -> str | None:
    """The public address of the portal ``ckan_connection`` chose, when one is configured: with the
    portal from the environment, ``CKAN_PUBLIC_URL``; else ``publish.ckan.public_url``."""
    if settings is None or os.environ.get("CKAN_URL"):
        return environment_public_url()
    return settings.public_url


def environment_public_url() -> str | None:
    """``CKAN_PUBLIC_URL``: the public address of the portal ``CKAN_URL`` names."""
    address = os.environ.get("CKAN_PUBLIC_URL", "").strip()
    if address and not address.startswith(("https://", "http://")):
        raise ConfigError(f"CKAN_PUBLIC_URL='{address}' no es una dirección web (https://…) del portal.")
    return address.rstrip("/") or None


def _environment_connection() -> tuple[str, str]:
    """From CKAN_URL and CKAN_API_TOKEN, or CKAN_API_TOKEN_FILE (a file holding the token)."""
    url = os.environ.get("CKAN_URL", "").strip()
    if not url:
        raise ConfigError("Falta la variable de entorno CKAN_URL con la dirección del portal CKAN.")
    if os.environ.get("CKAN_API_TOKEN", "").strip():
        return url, resolve_secret(env="CKAN_API_TOKEN", what="Token de CKAN")
    if os.environ.get("CKAN_API_TOKEN_FILE", "").strip():
        return url, resolve_secret(file=Path(os.environ["CKAN_API_TOKEN_FILE"].strip()), what="Token de CKAN")
    raise ConfigError("Falta el token de CKAN: defina CKAN_API_TOKEN o CKAN_API_TOKEN_FILE.")


def publisher(config: InstitutionConfig, target: Target | str, on_write: WriteListener | None = None) -> Publisher:
    """The backend registered for ``target``."""
    return BACKENDS.get(target, "Destino de publicación")(config, on_write)


def portal_publisher(url: str, token: str) -> Publisher:
    """A publisher for the portal at ``url`` that no institution's configuration names: the national
    monitor publishes its table to the portal it read the reports from (public address: ``CKAN_PUBLIC_URL``)."""
    return CkanPublisher(url, token, public_url=environment_public_url())
