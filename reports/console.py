"""What the officer reads in the Prefect UI after a run: the month's report as three artifacts.

The Prefect UI is the officer's console: each run posts the 24-item table, the findings grouped by
directorate, and the links to what was published. This module renders them from the month's
``ComplianceReport`` as plain data (table rows, Markdown), so they are tested without Prefect;
``flows.artifacts`` posts them.

The artifacts are internal (the officer's Prefect server), so the findings may name each file,
sheet, row and column as the directorate sent them; but a rejected row's cédula never leaves the
run in full: every text is passed through ``cedula.mask_in_text``, whatever the item's privacy
policy. Links are the report's own: a portal's address, or a path inside the local catalog, made
absolute under ``publish.public_url`` when it is set (as the catalog's DCAT addresses are) and else
shown as text, since the Prefect server does not serve the catalog folder; never a local file path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from transparencia.domain import Severity, cedula
from transparencia.reports.compliance import REPORT_TITLE, ComplianceReport, ItemReport
from transparencia.wording import count

NO_VALUE = "—"
FINDINGS_SHOWN = 10  # per item: the rest are counted, and read in the item's validation report


@dataclass(frozen=True)
class PublishedLink:
    """One published thing the officer may open: a title and the address the report gives it."""

    title: str
    url: str


def item_rows(report: ComplianceReport, public_url: str | None = None) -> list[dict[str, Any]]:
    """The 24-item table: one row per item with its Spanish status, its rows, why, and its link (the
    status second, where a narrow window still shows it)."""
    return [{"Punto": item.code, "Estado": item.status.short_label, "Nombre": item.name,
             "Filas": NO_VALUE if item.rows is None else item.rows, "Motivo": _text(item.detail) or NO_VALUE,
             "Dirección": item.directorate, "Enlace": address(item.url, public_url) if item.url else NO_VALUE}
            for item in report.items]


def headline(report: ComplianceReport) -> str:
    """The artifacts' description: whose month, and its score."""
    return f"{report.acronym}, {report.period.label_es} ({report.period}): {report.headline}"


def findings_markdown(report: ComplianceReport) -> str:
    """The month's findings, directorate by directorate, item by item (at most ``FINDINGS_SHOWN``
    each); the directorates without any are named at the end."""
    lines = [f"# Hallazgos de {report.period.label_es} por dirección", "", f"**{headline(report)}**"]
    by_directorate: dict[str, list[ItemReport]] = {}
    for item in report.items:
        if item.status.applicable:
            by_directorate.setdefault(item.directorate, []).append(item)
    clean = [name for name, items in by_directorate.items() if not any(i.findings for i in items)]
    for name, items in by_directorate.items():
        if name not in clean:
            lines += ["", f"## {_text(name)}"]
            for item in items:
                lines += _item_findings(item)
    if clean:
        lines += ["", f"Sin hallazgos: {', '.join(_text(name) for name in clean)}."]
    return "\n".join(lines) + "\n"


def _item_findings(item: ItemReport) -> list[str]:
    if not item.findings:
        return []
    lines = ["", f"### {item.code} {_text(item.name)}: {item.status.short_label} "
                 f"({count(item.errors, 'error')}, {count(item.warnings, 'advertencia')})", "",
             "| Tipo | Archivo | Hoja | Fila | Celda | Columna | Hallazgo |", "|---|---|---|---:|---|---|---|"]
    for finding in item.findings[:FINDINGS_SHOWN]:
        column = finding.get("header") or finding.get("column")  # the directorate's own header when known
        cells = (Severity(finding["severity"]).label.capitalize(), finding.get("file"), finding.get("sheet"),
                 finding.get("row"), finding.get("cell"), column, finding.get("message"))
        lines.append(markdown_row(cells))
    rest = len(item.findings) - FINDINGS_SHOWN
    if rest > 0:
        lines += ["", f"… y {count(rest, 'hallazgo')} más en el informe de validación del punto."]
    return lines


def links_markdown(report: ComplianceReport, report_url: str | None, public_url: str | None = None) -> str:
    """Where the month was published: the compliance report first, then each item with a link."""
    links = [PublishedLink(REPORT_TITLE, address(report_url, public_url))] if report_url else []
    links += [PublishedLink(f"{item.code} {_text(item.name)}", address(item.url, public_url))
              for item in report.items if item.url]
    lines = [f"# Publicado en {report.period.label_es}", "", f"**{headline(report)}**", ""]
    lines += [f"- {_link(link)}" for link in links] or ["Nada tiene enlace este mes."]
    if not all(is_address(link.url) for link in links):
        lines += ["", "Las rutas sin enlace están dentro de la carpeta del catálogo local publicado."]
    return "\n".join(lines) + "\n"


def is_address(url: str) -> bool:
    """Whether ``url`` is an address a browser opens (a portal's), not a path inside the local catalog."""
    return url.startswith(("https://", "http://"))


def address(url: str, public_url: str | None) -> str:
    """A link as the officer can open it: a portal's address as is; a path inside the local catalog
    under ``public_url`` (where the folder is served, ending in '/'), or the bare path without it."""
    return url if is_address(url) or not public_url else public_url + url


def _link(link: PublishedLink) -> str:
    """A Markdown link to a portal's address; a local catalog's path as code (no page to open)."""
    if is_address(link.url):
        return f"[{link.title}]({link.url})"
    return f"{link.title}: `{link.url}`"


def _text(value: object) -> str:
    """A text as the console shows it: on one line, with every cédula masked."""
    return cedula.mask_in_text(" ".join(str(value).split()))


def markdown_row(cells: Iterable[object]) -> str:
    """A Markdown table row of the console's and the preview's tables."""
    return "| " + " | ".join(_cell(value) for value in cells) + " |"


def _cell(value: object) -> str:
    """A Markdown table cell: masked, one line, its pipes escaped; none as a dash."""
    if value is None or value == "":
        return NO_VALUE
    return _text(value).replace("|", "\\|")
