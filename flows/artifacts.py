"""The month's report posted to the Prefect UI, the officer's console: three artifacts per run.

Each key belongs to one institution (``<acronym>-puntos``, ``-hallazgos``, ``-enlaces``), so the UI's
Artifacts page shows the latest month of each, and each key's page its history month by month. What
they say is rendered by ``reports.console``; this module only posts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.utilities.slugify import slugify

from transparencia.reports import console
from transparencia.reports.compliance import ComplianceReport


@dataclass(frozen=True)
class ArtifactKeys:
    """The institution's artifact keys: lowercase letters, digits and dashes, as Prefect requires."""

    items: str
    findings: str
    links: str

    @classmethod
    def of(cls, acronym: str) -> ArtifactKeys:
        stem = slugify(acronym)
        return cls(f"{stem}-puntos", f"{stem}-hallazgos", f"{stem}-enlaces")


def post_release_artifacts(report: ComplianceReport, report_url: str | None,
                           public_url: str | None = None) -> ArtifactKeys:
    """Post the month's item table, its findings by directorate and its links; the keys used.
    ``public_url`` is where the local catalog is served (``publish.public_url``), if anywhere."""
    keys = ArtifactKeys.of(report.acronym)
    description = console.headline(report)
    create_table_artifact(console.item_rows(report, public_url), key=keys.items,
                          description=f"Los {len(report.items)} puntos de {description}")
    create_markdown_artifact(console.findings_markdown(report), key=keys.findings,
                             description=f"Hallazgos por dirección de {description}")
    create_markdown_artifact(console.links_markdown(report, report_url, public_url), key=keys.links,
                             description=f"Enlaces a lo publicado de {description}")
    return keys
