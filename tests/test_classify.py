"""Status classification (``reports.compliance.classify``): a pure function of an item's outcome,
tested over every combination without Prefect."""

import datetime as dt
import itertools

import pytest

from transparencia.domain import Frequency, ItemKind, ItemStatus, Period
from transparencia.reports.compliance import (
    DocumentState,
    Extraction,
    ItemOutcome,
    Publishing,
    Validation,
    classify,
    verdict,
    withdrawal_reason,
)

JANUARY = Period(2025, 1)


def dataset(**facts) -> ItemOutcome:
    return ItemOutcome(ItemKind.DATASET, Frequency.MONTHLY, JANUARY, **facts)


def _expected(applies, configured, extraction, validation, publishing, warnings, online) -> ItemStatus:
    """The rules of issue 10 §4, written as a precedence list."""
    if not applies:
        return ItemStatus.NOT_APPLICABLE
    if not configured:
        return ItemStatus.NOT_CONFIGURED
    if publishing is Publishing.PUBLISHED:
        return ItemStatus.PUBLISHED_WITH_WARNINGS if warnings else ItemStatus.PUBLISHED
    if online:  # the month is still online from an earlier run: it counts, the failed attempt is noted
        return ItemStatus.PUBLISHED
    if extraction is Extraction.NOT_RECEIVED:
        return ItemStatus.NOT_RECEIVED
    if extraction is not Extraction.READ:
        return ItemStatus.SOURCE_ERROR
    if validation is not Validation.VALID:
        return ItemStatus.REJECTED
    if publishing is Publishing.WITHHELD:  # valid, but not approved in the review before publishing
        return ItemStatus.WITHHELD
    return ItemStatus.TARGET_ERROR


COMBINATIONS = list(itertools.product([True, False], [True, False], Extraction, Validation, Publishing, [0, 3],
                                      [False, True]))


@pytest.mark.parametrize("applies, configured, extraction, validation, publishing, warnings, online", COMBINATIONS)
def test_every_combination_of_a_dataset_outcome(applies, configured, extraction, validation, publishing, warnings,
                                                online):
    outcome = dataset(applies=applies, configured=configured, extraction=extraction, validation=validation,
                      publishing=publishing, warnings=warnings, online=online, reason="motivo")
    status = classify(outcome)
    assert status == _expected(applies, configured, extraction, validation, publishing, warnings, online)
    result = verdict(outcome)
    if status.applicable and configured:
        # the score counts what is online: published this run, or still online from an earlier one
        assert status.fulfilled == (publishing is Publishing.PUBLISHED or online)
        assert result.attempt_failed == (publishing is not Publishing.PUBLISHED)
    if not status.fulfilled and status.applicable:
        assert result.reason  # every item that did not publish says why, in one line
        assert "\n" not in result.reason


def test_a_month_already_online_keeps_its_status_with_a_note_on_the_failed_attempt():
    result = verdict(dataset(extraction=Extraction.SOURCE_ERROR, online=True,
                             reason="no se pudo conectar con la base de datos de Finanzas"))
    assert result.status is ItemStatus.PUBLISHED and result.attempt_failed
    assert "sigue en línea" in result.reason and "error de la fuente" in result.reason
    assert "no se pudo conectar con la base de datos de Finanzas" in result.reason


@pytest.mark.parametrize("facts, status", [
    ({"extraction": Extraction.SOURCE_ERROR}, ItemStatus.SOURCE_ERROR),  # refused connection: not "rechazado"
    ({"configured": False}, ItemStatus.NOT_CONFIGURED),  # never configured: not "faltante"
    ({"extraction": Extraction.READ, "validation": Validation.VALID, "publishing": Publishing.FAILED},
     ItemStatus.TARGET_ERROR),  # no CKAN_URL or the portal down: not "faltante"
    ({"extraction": Extraction.READ, "validation": Validation.INVALID}, ItemStatus.REJECTED),
    ({"extraction": Extraction.NOT_RECEIVED}, ItemStatus.NOT_RECEIVED),
])
def test_each_failure_has_its_own_status(facts, status):
    assert classify(dataset(**facts)) is status


def test_a_withdrawn_month_reads_retirado_with_its_reason_unless_it_is_online_again():
    reason = withdrawal_reason("2025-02-03", "Se publicó el archivo de marzo como febrero")
    result = verdict(dataset(withdrawn=True, extraction=Extraction.NOT_RECEIVED, reason=reason))
    assert result.status is ItemStatus.WITHDRAWN and result.status.label.startswith("Retirado")
    assert result.reason == "Retirado el 2025-02-03. Motivo: Se publicó el archivo de marzo como febrero"
    assert not result.status.fulfilled and result.status.missing and result.status.failed
    assert result.status.short_label == "Retirado"
    # published again after the withdrawal (the record stays): what is online counts
    assert classify(dataset(withdrawn=True, online=True, reason=reason)) is ItemStatus.PUBLISHED


def test_not_applicable_carries_the_catalog_reason():
    result = verdict(dataset(applies=False, not_applicable_reason="No otorga subsidios"))
    assert result.status is ItemStatus.NOT_APPLICABLE and result.reason == "No otorga subsidios"
    assert not ItemStatus.NOT_APPLICABLE.applicable


def document(frequency=Frequency.YEARLY, **facts) -> ItemOutcome:
    return ItemOutcome(ItemKind.DOCUMENT, frequency, JANUARY, **facts)


@pytest.mark.parametrize("frequency, state, status", [
    (Frequency.YEARLY, DocumentState(dt.date(2024, 1, 15)), ItemStatus.PUBLISHED),
    (Frequency.YEARLY, DocumentState(dt.date(2023, 12, 31)), ItemStatus.OUTDATED),
    (Frequency.QUARTERLY, DocumentState(dt.date(2024, 9, 30)), ItemStatus.OUTDATED),
    (Frequency.ON_CHANGE, DocumentState(dt.date(2010, 1, 1)), ItemStatus.PUBLISHED),
    (Frequency.MONTHLY, DocumentState(None), ItemStatus.NOT_RECEIVED),
    (Frequency.YEARLY, DocumentState(dt.date(2024, 6, 1), exists=False, where="docs/organigrama.pdf"),
     ItemStatus.NOT_RECEIVED),
])
def test_documents_follow_their_frequency(frequency, state, status):
    result = verdict(document(frequency, document=state))
    assert result.status is status
    if status is ItemStatus.OUTDATED:
        assert "exige actualizarlo" in result.reason
    if not state.exists:
        assert "docs/organigrama.pdf" in result.reason


def test_an_unconfigured_document_is_not_configured_not_missing():
    result = verdict(document(configured=False))
    assert result.status is ItemStatus.NOT_CONFIGURED and "documento no está configurado" in result.reason
