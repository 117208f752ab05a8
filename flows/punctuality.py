"""The run's punctuality table: the officer's internal copy written, and the run's table artifact posted.

The table is ``reports.punctuality``'s; this module only writes and posts it. The artifact's key is
the institution's (``<acronym>-puntualidad``), so the Prefect UI keeps its history month by month.
"""

from __future__ import annotations

from prefect.artifacts import create_table_artifact
from prefect.utilities.slugify import slugify

from transparencia.domain import Period
from transparencia.reports.punctuality import PunctualityTable, punctuality_table, write_punctuality
from transparencia.sources.config import InstitutionConfig


def punctuality_key(acronym: str) -> str:
    """The artifact key: lowercase letters, digits and dashes, as Prefect requires."""
    return f"{slugify(acronym)}-puntualidad"


def post_punctuality(config: InstitutionConfig, month: Period) -> PunctualityTable:
    """The 12 months up to ``month``, written under ``interno/`` and posted as a table artifact."""
    table = punctuality_table(config, month)
    write_punctuality(table, config.workspace)
    create_table_artifact(table.table_rows(), key=punctuality_key(config.institution.acronym),
                          description=f"Puntualidad de las direcciones de {config.institution.name}, "
                                      f"{table.periods[0]} a {table.periods[-1]}: a tiempo, tarde o no llegó "
                                      "frente al plazo de entrega")
    return table
