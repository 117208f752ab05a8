"""An item's outcome, figures and ledger notes from what its stages returned: pure functions, no Prefect."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from release_samples import planilla_frame, planilla_report

from transparencia.domain import ItemStatus, Period, Severity
from transparencia.errors import InputError
from transparencia.flows.ledger import LedgerNotes, RunLedger
from transparencia.flows.outcome import StageResults, dataset_assessment, document_assessment
from transparencia.flows.stages import PublishedMonth
from transparencia.publishers.ckan_client import PortalUnavailableError
from transparencia.reports.compliance import Extraction, ItemFacts, Publishing, Validation, item_report, verdict
from transparencia.sources.config import load_config
from transparencia.sources.extraction import Extraction as ExtractedTable
from transparencia.sources.extraction import SourceRef
from transparencia.sources.registry import MissingInputError
from transparencia.validation.findings import Finding, ValidationReport

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "institution.yaml"
CONFIG = load_config(SAMPLE)
PLANILLA = CONFIG.catalog.get("11.3")
JANUARY = Period.parse("2025-01")
DIRECTORATE = "Dirección de Recursos Humanos"
EXTRACTED = ExtractedTable("11.3", planilla_frame("2025-01"),
                           SourceRef("file", "/srv/inbox/rrhh/planilla.xlsx", "Hoja1", DIRECTORATE))
PUBLISHED = PublishedMonth(url="https://datos.example/planilla", result={"dataset": "snm-planilla", "writes": 3},
                           stored={"path": "/srv/store/planilla/2025-01.parquet", "sha256": "ab", "written": True,
                                   "updated": "2025-02-03"}, writes=3, changes="2 altas")


def results(extraction: ExtractedTable | Exception = EXTRACTED,
            validation: ValidationReport | Exception | None = None,
            publication: PublishedMonth | Exception | None = PUBLISHED) -> StageResults:
    return StageResults(DIRECTORATE, extraction, planilla_report("2025-01") if validation is None else validation,
                        publication)


def rejected_report() -> ValidationReport:
    error = Finding(rule="required", severity=Severity.ERROR, column="cargo", row=3, value=None,
                    message="Falta el cargo.")
    return ValidationReport(item="11.3", item_name="Planilla", file="planilla.xlsx", sheet="Hoja1", rows=2,
                            period=Period(2025, 1), findings=[error])


def test_importing_the_assembly_does_not_import_prefect():
    probe = "import sys, transparencia.flows.outcome; print('prefect' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"


def test_a_published_month_carries_its_figures_and_what_the_ledger_keeps():
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY, results())
    outcome, facts, notes = assessment.outcome, assessment.facts, assessment.notes
    assert (outcome.extraction, outcome.validation, outcome.publishing) == (
        Extraction.READ, Validation.VALID, Publishing.PUBLISHED)
    assert outcome.warnings == 2 and verdict(outcome).status is ItemStatus.PUBLISHED_WITH_WARNINGS
    assert facts.directorate == DIRECTORATE and facts.rows == 2 and (facts.errors, facts.warnings) == (0, 2)
    assert facts.url == PUBLISHED.url and facts.last_update == "2025-02-03" and facts.changes == "2 altas"
    assert facts.source is not None and "/srv" not in facts.source  # a source in public terms
    assert len(facts.findings) == 2 and notes.findings is not None and len(notes.findings) == 2
    assert notes.publish == PUBLISHED.result and notes.output == {"item": "11.3", **(PUBLISHED.stored or {})}
    assert notes.errors == [] and notes.outage is None


def test_a_missing_source_is_not_received_with_nothing_for_the_ledger():
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY,
                                    results(MissingInputError("No llegó el archivo del período 2025-01.")))
    assert assessment.outcome.extraction is Extraction.NOT_RECEIVED
    assert verdict(assessment.outcome).status is ItemStatus.NOT_RECEIVED
    assert assessment.facts == ItemFacts(DIRECTORATE) and assessment.notes == LedgerNotes()


def test_an_unreadable_source_is_one_public_finding_and_the_full_error_stays_local():
    error = InputError("No se puede leer '/srv/inbox/rrhh/planilla.xlsx': archivo dañado")
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY, results(error))
    assert verdict(assessment.outcome).status is ItemStatus.SOURCE_ERROR
    [finding] = assessment.facts.findings
    assert finding["rule"] == "fuente" and finding["severity"] == "error" and assessment.facts.errors == 1
    assert "/srv/inbox" not in finding["message"] and "/srv/inbox" not in assessment.outcome.reason
    assert assessment.notes.errors == [f"11.3: {error.message}"]


def test_a_validation_that_could_not_run_counts_one_error():
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY, results(validation=RuntimeError("sin memoria")))
    assert assessment.outcome.validation is Validation.FAILED and assessment.facts.errors == 1
    assert verdict(assessment.outcome).status is ItemStatus.REJECTED
    assert assessment.notes.errors == ["11.3: RuntimeError: sin memoria"] and assessment.notes.findings is None


def test_a_rejected_month_says_how_many_errors_and_the_first():
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY, results(validation=rejected_report(),
                                                                       publication=None))
    assert verdict(assessment.outcome).status is ItemStatus.REJECTED
    assert assessment.outcome.reason.startswith("1 error (el primero: ")
    assert assessment.outcome.reason.endswith("no se publicó este mes.")
    assert assessment.facts.errors == 1 and assessment.notes.publish is None and assessment.notes.findings


@pytest.mark.parametrize("error, outage", [
    (PortalUnavailableError("El portal no responde."), "El portal no responde."),
    (InputError("El portal rechazó el recurso."), None),
])
def test_a_failed_publication_is_a_target_error_and_an_outage_is_noted(error, outage):
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY, results(publication=error))
    assert verdict(assessment.outcome).status is ItemStatus.TARGET_ERROR
    assert assessment.outcome.reason.startswith("No se pudo publicar: ")
    assert assessment.notes.outage == outage
    assert assessment.notes.errors == [f"11.3: No se pudo publicar: {error.message}"]
    assert assessment.notes.findings is not None  # the month was validated: its findings are kept


def test_an_item_no_source_feeds_is_not_configured():
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY, None)
    assert verdict(assessment.outcome).status is ItemStatus.NOT_CONFIGURED
    assert assessment.facts.directorate == CONFIG.directorate_name(PLANILLA.directorate)


def test_a_document_is_read_from_its_configured_entry():
    entry = CONFIG.documents[0]
    assessment = document_assessment(CONFIG, CONFIG.catalog.get(entry.item), JANUARY)
    assert assessment.facts.url == entry.url
    assert assessment.facts.last_update == (entry.updated.isoformat() if entry.updated else None)
    assert assessment.outcome.document is not None and assessment.notes == LedgerNotes()


def test_the_row_and_the_ledger_take_the_assessment_as_it_is():
    assessment = dataset_assessment(CONFIG, PLANILLA, JANUARY, results(publication=InputError("rechazado")))
    row = item_report(PLANILLA, assessment.outcome, assessment.facts)
    assert row.status is ItemStatus.TARGET_ERROR and row.attempt_failed and row.rows == 2
    ledger = RunLedger(run_id="r", period=JANUARY, institution="SNM", target="local", dry_run=False, config="c")
    ledger.note("11.3", assessment.notes)
    assert ledger.errors == assessment.notes.errors and "11.3" in ledger.findings and not ledger.publish


def test_a_rejected_first_month_does_not_claim_earlier_months_are_still_published():
    """The 2026-10 report said "los meses anteriores siguen publicados" when no earlier month existed."""
    outcome = dataset_assessment(CONFIG, PLANILLA, JANUARY, results(validation=rejected_report(),
                                                                    publication=None)).outcome
    first = verdict(outcome).reason
    assert "siguen publicados" not in first and first.endswith("no hay otros meses publicados.")
    later = verdict(dataclasses.replace(outcome, last_online=Period.parse("2024-12"))).reason
    assert later.endswith("los meses anteriores siguen publicados (el último, diciembre de 2024).")
