"""transparencia: the monthly release of Panama's mandatory transparency items.

The pipeline's stages live in sibling packages mapped into this namespace:
``transparencia.sources`` (extract), ``transparencia.schemas`` (the catalog and item schemas),
``transparencia.validation``, ``transparencia.publishers``, ``transparencia.reports`` and
``transparencia.flows`` (Prefect orchestration). This package holds the CLI and the error types.
"""

__version__ = "0.1.0"
