"""One item's outcome, figures and ledger notes, assembled from what its stages returned.

The release flow reads each item's task results into ``StageResults`` (each stage's value, or the
exception that stopped it) and asks this module what they mean: the ``ItemOutcome`` the status rule
reads (``reports.compliance.verdict``), the ``ItemFacts`` shown beside the status in the report,
and the ``LedgerNotes`` the run ledger keeps (the full error, every finding, what was written).
These are pure functions: no Prefect, no portal, tested on their own (``tests/test_item_outcome.py``).

What the public sees is only what may be published: errors through ``publishers.public`` (no
paths, no hosts), findings with personal data treated as the institution's policy says.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from transparencia.domain import ItemKind, Period
from transparencia.flows.ledger import LedgerNotes, error_message
from transparencia.flows.stages import PublishedMonth
from transparencia.publishers.base import PortalUnavailableError
from transparencia.publishers.public import describe_source, public_error, public_findings
from transparencia.reports.compliance import (
    DocumentState,
    Extraction,
    ItemFacts,
    ItemOutcome,
    ItemReport,
    Publishing,
    Validation,
)
from transparencia.schemas.catalog import Item
from transparencia.sources.config import InstitutionConfig
from transparencia.sources.extraction import Extraction as ExtractedTable
from transparencia.sources.registry import MissingInputError
from transparencia.validation.findings import ValidationReport
from transparencia.wording import count

PUBLISH_FAILED = "No se pudo publicar"
UNPUBLISHED_HEADER = "Puntos que no se publicaron este mes, y por qué:"


def one_line(text: str) -> str:
    return " ".join(text.split())


def reason_line(item: ItemReport) -> str:
    """'  10.5 Faltante: no llegó el archivo …': one unpublished item and why, as the CLI and the log say it."""
    return f"  {item.code} {item.status.short_label}: {one_line(item.detail)}"


@dataclass(frozen=True)
class Withheld:
    """A valid month the review before publishing held back (``flows.review``): not published, and why."""

    reason: str


@dataclass(frozen=True)
class StageResults:
    """What one configured item's stages returned: each a value, or the exception that ended the stage.
    A stage after one that failed or rejected the month is never looked at."""

    directorate: str  # the name of the directorate whose source feeds the item
    extraction: ExtractedTable | Exception
    validation: ValidationReport | Exception
    publication: PublishedMonth | Withheld | Exception | None


@dataclass(frozen=True)
class Assessment:
    """An item's outcome (for its status), its figures (for the report) and what the ledger keeps."""

    outcome: ItemOutcome
    facts: ItemFacts
    notes: LedgerNotes = dataclasses.field(default_factory=LedgerNotes)


def dataset_assessment(config: InstitutionConfig, item: Item, period: Period,
                       results: StageResults | None) -> Assessment:
    """A data item's assessment; ``results`` is None when no source of the configuration feeds it."""
    base = ItemOutcome(ItemKind.DATASET, item.frequency, period, applies=item.applies, configured=results is not None,
                       not_applicable_reason=item.reason or "")
    if results is None or not item.applies:
        return Assessment(base, ItemFacts(config.directorate_name(item.directorate)))
    facts = ItemFacts(results.directorate)
    extraction = results.extraction
    if isinstance(extraction, MissingInputError):
        return Assessment(dataclasses.replace(base, extraction=Extraction.NOT_RECEIVED,
                                              reason=public_error(extraction)), facts)
    if isinstance(extraction, Exception):  # unusable input: the public reason is shown, the full detail stays local
        message = public_error(extraction)
        return Assessment(dataclasses.replace(base, extraction=Extraction.SOURCE_ERROR, reason=message),
                          dataclasses.replace(facts, errors=1, findings=[source_finding(message)]),
                          LedgerNotes(errors=[f"{item.code}: {error_message(extraction)}"]))
    read = dataclasses.replace(base, extraction=Extraction.READ)
    facts = dataclasses.replace(facts, rows=extraction.rows, source=describe_source(extraction.source))
    return _validated(config, item, read, facts, results)


def _validated(config: InstitutionConfig, item: Item, read: ItemOutcome, facts: ItemFacts,
               results: StageResults) -> Assessment:
    """The assessment of an item whose source was read: by its validation, then its publication."""
    report = results.validation
    if isinstance(report, Exception):
        return Assessment(dataclasses.replace(read, validation=Validation.FAILED, reason=public_error(report)),
                          dataclasses.replace(facts, errors=1),
                          LedgerNotes(errors=[f"{item.code}: {error_message(report)}"]))
    schema = item.table_schema()
    shown = public_findings(report, schema, schema.treatments(config.privacy.get(item.code, {})))
    facts = dataclasses.replace(facts, errors=len(report.errors), warnings=len(report.warnings), findings=shown)
    notes = LedgerNotes(findings=[f.to_dict() for f in report.findings])
    checked = dataclasses.replace(read, validation=Validation.VALID if report.valid else Validation.INVALID,
                                  warnings=len(report.warnings))
    if not report.valid:
        return Assessment(dataclasses.replace(checked, reason=rejection(shown, len(report.errors))), facts, notes)
    return _published(item, checked, facts, notes, results.publication)


def _published(item: Item, checked: ItemOutcome, facts: ItemFacts, notes: LedgerNotes,
               publication: PublishedMonth | Withheld | Exception | None) -> Assessment:
    """The assessment of a valid month: by what publishing it returned, or why the review held it back."""
    if isinstance(publication, Withheld):
        return Assessment(dataclasses.replace(checked, publishing=Publishing.WITHHELD, reason=publication.reason),
                          facts, notes)
    if isinstance(publication, Exception):
        outage = publication.message if isinstance(publication, PortalUnavailableError) else None
        failed = dataclasses.replace(notes, outage=outage,
                                     errors=[f"{item.code}: {PUBLISH_FAILED}: {error_message(publication)}"])
        return Assessment(dataclasses.replace(checked, publishing=Publishing.FAILED,
                                              reason=f"{PUBLISH_FAILED}: {public_error(publication)}"), facts, failed)
    if publication is None:  # a valid month is always published (a dry run: rendered); never None
        raise TypeError(f"{item.code}: a valid month came back unpublished")
    facts = dataclasses.replace(facts, url=publication.url, last_update=publication.updated,
                                changes=publication.changes)
    written = published_notes(item.code, publication)
    return Assessment(dataclasses.replace(checked, publishing=Publishing.PUBLISHED), facts,
                      dataclasses.replace(notes, publish=written.publish, output=written.output))


def published_notes(code: str, publication: PublishedMonth) -> LedgerNotes:
    """What the ledger keeps of a published month: the backend's actions and the stored month."""
    output = None if publication.stored is None else {"item": code, **publication.stored}
    return LedgerNotes(publish=publication.result, output=output)


def source_finding(message: str) -> dict[str, object]:
    """The one finding of a source that could not be read, shaped as every published finding."""
    return {"rule": "fuente", "severity": "error", "message": message, "column": None, "row": None,
            "value": None, "file": None, "sheet": None}


def rejection(findings: list[dict[str, object]], errors: int) -> str:
    """Why an item was rejected, in one line: how many errors and the first one (as published)."""
    first = str(next((f["message"] for f in findings if f["severity"] == "error"), ""))
    return f"{count(errors, 'error')} (el primero: {first.rstrip('.')}); no se publicó este mes."


def document_assessment(config: InstitutionConfig, item: Item, period: Period) -> Assessment:
    """A document item's assessment, from its entry in the configuration (its link or file and date)."""
    entry = next((d for d in config.documents if d.item == item.code), None)
    base = ItemOutcome(ItemKind.DOCUMENT, item.frequency, period, applies=item.applies, configured=entry is not None,
                       not_applicable_reason=item.reason or "")
    facts = ItemFacts(config.directorate_name(item.directorate))
    if entry is None or not item.applies:
        return Assessment(base, facts)
    # a local file's path means nothing to the public: no file:// link, the file by name only
    facts = dataclasses.replace(facts, url=entry.url,
                                source=entry.title or (f"archivo {entry.path.name}" if entry.path else None),
                                last_update=entry.updated.isoformat() if entry.updated else None)
    exists = entry.path is None or entry.path.exists()
    state = DocumentState(entry.updated, exists, entry.path.name if entry.path else "")
    return Assessment(dataclasses.replace(base, document=state), facts)
