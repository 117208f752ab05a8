"""Publisher backends registered by their target name, each built from the institution configuration.

A backend's settings are the configuration's typed ``publish`` section (``PublishSettings``, and
``CkanSettings`` for ``ckan``), validated when the configuration loads; a new backend is one
function registered here plus its ``Target`` member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from transparencia.domain import Target
from transparencia.domain.registry import Registry
from transparencia.publishers.base import Publisher

if TYPE_CHECKING:
    from transparencia.sources.config import InstitutionConfig

# A write listener (``on_write``) hears each write call a backend makes (the run ledger's journal).
BackendFactory = Callable[["InstitutionConfig", Callable[..., None] | None], Publisher]
BACKENDS: Registry[BackendFactory] = Registry("destino de publicación", "destinos")


@BACKENDS.register(Target.LOCAL)
def _local(config: InstitutionConfig, on_write: Callable[..., None] | None) -> Publisher:
    from transparencia.publishers.local import LocalCatalog

    return LocalCatalog(config.publish.local_dir)


@BACKENDS.register(Target.CKAN)
def _ckan(config: InstitutionConfig, on_write: Callable[..., None] | None) -> Publisher:
    """CKAN settings come from the configuration, else CKAN_URL/CKAN_API_TOKEN(_FILE)."""
    from transparencia.publishers.ckan import CkanPublisher

    return CkanPublisher.for_config(config, on_write=on_write)


def publisher(config: InstitutionConfig, target: Target | str, on_write: Callable[..., None] | None = None) -> Publisher:
    """The backend registered for ``target``."""
    return BACKENDS.get(target, "Destino de publicación")(config, on_write)
