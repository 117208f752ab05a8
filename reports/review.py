"""The month's preview as the officer reads it before approving what is published (``publish.review``).

The release renders every valid month and asks the target what publishing it would write (a dry
run), then posts this preview to the Prefect UI and waits for the officer's decision
(``flows.review``). The preview says, item by item, the status the month would get, its rows, its
findings and what would be written; nothing in it has been published yet. Pure rendering from the
preview's ``ComplianceReport`` and the planned actions, tested without Prefect.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence

from transparencia.domain import ItemKind
from transparencia.domain.vocab import PublishVerb
from transparencia.publishers.base import ActionRecord
from transparencia.reports.compliance import ComplianceReport, ItemReport
from transparencia.reports.console import NO_VALUE, markdown_row

_VERBS = {PublishVerb.CREATE: "crear", PublishVerb.UPDATE: "actualizar", PublishVerb.DELETE: "borrar",
          PublishVerb.UNCHANGED: "sin cambios"}


def plan_text(actions: Sequence[ActionRecord]) -> str:
    """What publishing an item would do, counted by kind: 'crear 9 · actualizar 1 · sin cambios 3'."""
    counts = Counter(PublishVerb(a["action"]) for a in actions)
    return " · ".join(f"{_VERBS[verb]} {counts[verb]}" for verb in _VERBS if counts[verb]) or "nada que escribir"


def publishable(report: ComplianceReport, plans: Mapping[str, Sequence[ActionRecord]]) -> list[ItemReport]:
    """The items the review decides on: data items whose month is valid and was rendered (they have a plan)."""
    return [i for i in report.items if i.kind == ItemKind.DATASET and i.code in plans and i.status.fulfilled]


def preview_markdown(report: ComplianceReport, plans: Mapping[str, Sequence[ActionRecord]],
                     deadline: dt.datetime) -> str:
    """The preview artifact: the month if approved, then one row per item with what would be published."""
    chosen = {i.code for i in publishable(report, plans)}
    lines = [f"# Vista previa de {report.period.label_es} ({report.period}): {report.acronym}", "",
             "**Todavía no se ha publicado nada.** Si se aprueba todo: "
             f"**{report.headline}**; se publicarían {len(chosen)} puntos de datos.", "",
             f"Decida en esta ejecución (botón «Resume»/«Reanudar») antes del {deadline:%d/%m/%Y} a las "
             f"{deadline:%H:%M} UTC: aprobar todo, aprobar todo excepto algunos puntos, o rechazar. "
             "Sin decisión en ese plazo no se publica nada.", "",
             "| Punto | Nombre | Estado si se aprueba | Filas | Hallazgos | Qué se publicaría |",
             "|---|---|---|---:|---:|---|"]
    for item in report.items:
        if item.status.applicable and item.kind == ItemKind.DATASET:
            lines.append(_row(item, plans.get(item.code) if item.code in chosen else None))
    return "\n".join(lines) + "\n"


def _row(item: ItemReport, plan: Sequence[ActionRecord] | None) -> str:
    state = item.status.short_label if plan is not None else f"{item.status.short_label}: {item.detail}"
    cells = (item.code, item.name, state, NO_VALUE if item.rows is None else f"{item.rows:,}",
             str(item.findings_count), NO_VALUE if plan is None else plan_text(plan))
    return markdown_row(cells)


def form_description(report: ComplianceReport, codes: Sequence[str], artifact: str, deadline: dt.datetime) -> str:
    """What the officer reads above Prefect's form: what is at stake, where the preview is, how to answer."""
    would = f"se publicarían {len(codes)} puntos de datos ({', '.join(codes)})" if codes else \
        "no hay puntos de datos que publicar (solo el informe de cumplimiento)"
    return (f"**Revisión antes de publicar: {report.acronym}, {report.period.label_es} ({report.period}).** "
            f"Todavía no se ha publicado nada. Si se aprueba todo: {report.headline}; {would}. "
            f"La vista previa completa, punto por punto, está en el artefacto «{artifact}» de esta ejecución.\n\n"
            "Elija «aprobar todo», «aprobar todo excepto estos puntos» (y marque los que no se publican) o "
            "«rechazar», y escriba su nombre: queda en el informe de cumplimiento. "
            f"Plazo: {deadline:%d/%m/%Y} a las {deadline:%H:%M} UTC; sin decisión no se publica nada.")
