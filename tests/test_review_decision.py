"""The review before publishing, without a Prefect server: the configuration and its override, which
items a decision holds back and why, what the preview and the form say, how the report and the run's
state record the decision, and the CLI's refusal to wait for a decision nobody could give."""

from __future__ import annotations

import datetime as dt

import pytest
from institutions import sample_document, write_institution
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.cli.run import REVIEW_NEEDS_SERVER, _bar_update, awaiting_text
from transparencia.domain import Frequency, ItemKind, ItemStatus, Period, ReviewDecision
from transparencia.flows.outcome import Withheld
from transparencia.flows.progress import AwaitingReview, ItemProgress, Step
from transparencia.flows.release import ReleaseResult, run_state
from transparencia.flows.review import EXCLUDED, EXPIRED, REJECTED, ReviewEnd, review_form, withheld
from transparencia.reports.compliance import (
    ComplianceReport,
    Extraction,
    ItemOutcome,
    ItemReport,
    Publishing,
    Review,
    Validation,
    render,
    verdict,
)
from transparencia.reports.review import form_description, plan_text, preview_markdown
from transparencia.sources.config import load_config

MARCH = Period(2025, 3)
DECIDED = dt.datetime(2025, 4, 7, 14, 5, tzinfo=dt.UTC)
DEADLINE = dt.datetime(2025, 4, 8, 14, 0, tzinfo=dt.UTC)


def _review(decision=ReviewDecision.APPROVE_EXCEPT, excluded=("11.6",)) -> Review:
    return Review(decision, "Ana Pérez", DECIDED, excluded)


def _item(code: str, status: ItemStatus, detail: str = "", rows: int | None = 10) -> ItemReport:
    return ItemReport(code, f"Punto {code}", ItemKind.DATASET, Frequency.MONTHLY, status, "Dirección de Finanzas",
                      rows=rows, errors=0 if status.fulfilled else 2, warnings=1, detail=detail)


def _report(review: Review | None = None) -> ComplianceReport:
    items = [_item("11.3", ItemStatus.PUBLISHED), _item("11.6", ItemStatus.PUBLISHED_WITH_WARNINGS),
             _item("10.5", ItemStatus.NOT_RECEIVED, "No llegó el archivo del período.", rows=None),
             _item("11.7", ItemStatus.REJECTED, "2 errores (el primero: fecha inválida)")]
    return ComplianceReport("Servicio Nacional de Migración", "SNM", MARCH, items, review=review)


# --------------------------------------------------------------------------- configuration


def test_review_is_off_unless_the_configuration_or_the_run_asks_for_it(tmp_path):
    document = sample_document()
    plain = load_config(write_institution(tmp_path / "a", document)).publish
    document["publish"].update(review=True, review_timeout=90)
    reviewed = load_config(write_institution(tmp_path / "b", document)).publish

    assert not plain.review and plain.review_timeout == 24 * 60
    assert reviewed.review and reviewed.review_timeout == 90
    assert reviewed.reviews() and not reviewed.reviews(False) and plain.reviews(True)
    assert not reviewed.reviews(True, dry_run=True)  # a dry run publishes nothing: there is nothing to approve


# --------------------------------------------------------------------------- the decision


def test_an_approval_with_exceptions_holds_back_only_the_items_left_out():
    end = ReviewEnd(_review(excluded=("11.6",)), 60)
    assert withheld(["11.3", "11.6"], end) == {"11.6": Withheld(EXCLUDED)}
    assert "excluido por el oficial en la revisión" in EXCLUDED.lower()
    assert end.publishes


def test_an_item_the_officer_listed_is_never_published_even_when_all_is_approved():
    end = ReviewEnd(_review(ReviewDecision.APPROVE_ALL, excluded=("11.3",)), 60)
    assert withheld(["11.3", "11.6"], end) == {"11.3": Withheld(EXCLUDED)}


@pytest.mark.parametrize("end, reason, name", [
    (ReviewEnd(_review(ReviewDecision.REJECT, excluded=()), 60), REJECTED, "Rechazada"),
    (ReviewEnd(None, 0.05), EXPIRED, "Sin aprobación"),
])
def test_a_rejection_or_no_decision_in_time_holds_back_everything(end, reason, name):
    assert withheld(["11.3", "11.6"], end) == {"11.3": Withheld(reason), "11.6": Withheld(reason)}
    assert not end.publishes and end.state_name == name
    assert "no se publicó nada" in end.sentence


def test_the_sentences_say_who_decided_what_and_when():
    assert _review(ReviewDecision.APPROVE_ALL, ()).sentence == (
        "Publicación aprobada por Ana Pérez el 07/04/2025 a las 14:05 UTC.")
    assert _review(excluded=("11.6", "11.7", "12.1")).sentence == (
        "Publicación aprobada por Ana Pérez el 07/04/2025 a las 14:05 UTC, excepto los puntos 11.6, 11.7 y 12.1 "
        "(excluidos por el oficial en la revisión).")
    assert _review(ReviewDecision.REJECT, ()).sentence == (
        "Publicación rechazada por Ana Pérez el 07/04/2025 a las 14:05 UTC: no se publicó nada.")
    assert ReviewEnd(None, 0.05).sentence == "La revisión venció sin decisión tras 3 segundos: no se publicó nada."
    assert ReviewEnd(None, 1440).sentence == "La revisión venció sin decisión tras 24 horas: no se publicó nada."


def test_a_held_back_month_is_not_approved_with_its_reason_unless_an_earlier_run_put_it_online():
    outcome = ItemOutcome(ItemKind.DATASET, Frequency.MONTHLY, MARCH, extraction=Extraction.READ,
                          validation=Validation.VALID, publishing=Publishing.WITHHELD, reason=EXCLUDED)
    held = verdict(outcome)
    assert held.status is ItemStatus.WITHHELD and held.reason == EXCLUDED and held.attempt_failed
    assert ItemStatus.WITHHELD.failed and not ItemStatus.WITHHELD.fulfilled  # the run ends "Incompleto", exit 1
    online = verdict(ItemOutcome(**{**outcome.__dict__, "online": True}))
    assert online.status is ItemStatus.PUBLISHED and "excluido por el oficial" in online.reason.lower()


# --------------------------------------------------------------------------- what the officer reads


def test_the_preview_says_nothing_is_published_yet_and_what_each_item_would_write():
    plans = {"11.3": [{"target": "resource", "name": "x", "action": "create", "url": None, "detail": ""}] * 3 +
                     [{"target": "resource", "name": "y", "action": "unchanged", "url": None, "detail": ""}],
             "11.6": []}
    text = preview_markdown(_report(), plans, DEADLINE)

    assert "Todavía no se ha publicado nada" in text and "08/04/2025 a las 14:00 UTC" in text
    assert "| 11.3 | Punto 11.3 | Publicado | 10 | 1 | crear 3 · sin cambios 1 |" in text
    assert "| 11.6 | Punto 11.6 | Publicado con advertencias | 10 | 1 | nada que escribir |" in text
    assert "| 10.5 | Punto 10.5 | Faltante: No llegó el archivo del período. | — | 3 | — |" in text
    assert "Rechazado por errores de validación: 2 errores (el primero: fecha inválida)" in text
    assert "se publicarían 2 puntos de datos" in text
    assert plan_text([]) == "nada que escribir"


def test_the_form_offers_only_the_items_the_preview_would_publish_with_spanish_labels():
    description = form_description(_report(), ["11.3", "11.6"], "snm-vista-previa", DEADLINE)
    form = review_form(["11.3", "11.6"], description)
    schema = form.model_json_schema()

    assert form._description == description
    assert "Todavía no se ha publicado nada" in description and "«snm-vista-previa»" in description
    assert set(form.model_fields) == {"decision", "excluded", "officer"}
    assert schema["properties"]["excluded"]["items"]["enum"] == ["11.3", "11.6"]
    assert schema["properties"]["excluded"]["title"] == "Puntos que no se publican"
    assert schema["properties"]["officer"]["title"] == "Su nombre"
    assert {d.value for d in ReviewDecision} == {"aprobar todo", "aprobar todo excepto estos puntos", "rechazar"}
    answer = form(decision="aprobar todo excepto estos puntos", excluded=["11.6"], officer="Ana Pérez")
    assert answer.decision is ReviewDecision.APPROVE_EXCEPT


def test_the_report_says_who_approved_and_when_in_every_format():
    report = _report(_review())
    again = ComplianceReport.from_dict(report.to_dict())

    assert again.review == report.review
    sentence = report.review.sentence
    assert sentence in render(report, "md") and sentence in render(report, "html")
    assert "Revisión antes de publicar" not in render(_report(), "md")


def _result(review: ReviewEnd | None, statuses=(ItemStatus.PUBLISHED,)) -> ReleaseResult:
    items = [_item(f"11.{n}", status) for n, status in enumerate(statuses)]
    report = ComplianceReport("Servicio Nacional de Migración", "SNM", MARCH, items)
    return ReleaseResult(MARCH, "r", None, "local", False, report.to_dict(), due=[i.code for i in items],
                         review=review)


def test_a_run_the_review_stopped_ends_cancelled_saying_why_in_spanish():
    rejected = run_state(_result(ReviewEnd(_review(ReviewDecision.REJECT, ()), 60), [ItemStatus.WITHHELD]), "0 de 1")
    expired = run_state(_result(ReviewEnd(None, 60), [ItemStatus.WITHHELD]), "0 de 1")
    approved = run_state(_result(ReviewEnd(_review(ReviewDecision.APPROVE_ALL, ()), 60)), "1 de 1 puntos cumplidos")

    assert rejected.is_cancelled() and rejected.name == "Rechazada" and "rechazada por Ana Pérez" in rejected.message
    assert expired.is_cancelled() and expired.name == "Sin aprobación" and "venció sin decisión" in expired.message
    assert approved.is_completed() and approved.message == (
        "1 de 1 puntos cumplidos. Publicación aprobada por Ana Pérez el 07/04/2025 a las 14:05 UTC.")


# --------------------------------------------------------------------------- the CLI


def test_the_cli_says_where_to_decide_and_shows_the_preview_step():
    text = awaiting_text(AwaitingReview("http://127.0.0.1:4200/runs/flow-run/abc", DEADLINE))
    assert "http://127.0.0.1:4200/runs/flow-run/abc" in text and "08/04/2025 a las 14:00 UTC" in text
    update = _bar_update(ItemProgress("11.3", Step.PREVIEWED, writes=4))
    assert "advance" not in update and "en espera de aprobación (4 escrituras si se aprueba)" in update["description"]


@pytest.mark.parametrize("flag, configured", [(["--revision"], False), ([], True)])
def test_a_review_without_a_prefect_server_is_refused_with_exit_2(tmp_path, monkeypatch, flag, configured):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    document = sample_document()
    document["publish"]["review"] = configured
    config = write_institution(tmp_path, document)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["run", "--period", str(MARCH), "--config", str(config), *flag],
                                    terminal_width=400)

    assert result.exit_code == 2, result.output
    assert " ".join(REVIEW_NEEDS_SERVER.split()) in " ".join(result.output.split())
    assert not (tmp_path / "published").exists() and not (tmp_path / "raw").exists()


def test_the_run_flags_override_the_configuration_either_way_and_not_both_at_once(tmp_path):
    from transparencia.cli.run import _review_choice

    assert (_review_choice(True, False), _review_choice(False, True), _review_choice(False, False)) == (
        True, False, None)
    config = write_institution(tmp_path, sample_document())
    both = CliRunner().invoke(app, ["run", "--period", str(MARCH), "--config", str(config), "--revision",
                                    "--sin-revision"], terminal_width=400)
    assert both.exit_code == 2 and "Indique --revision o --sin-revision, no ambas." in both.output
