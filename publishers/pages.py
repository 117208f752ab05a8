"""The local catalog's page for one dataset: the numbers a journalist wants before downloading anything.

Built from what the dataset folder already holds (its metadata, the latest month's CSV, change
summary and chart), so the page can never say something the files do not: the latest month's
row count and totals, a preview of its first rows, what changed since the month before and the
monthly chart. It is plain HTML with the chart as a static SVG image: nothing from the network.
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path
from typing import TypedDict
from urllib.parse import quote

from markupsafe import Markup

from transparencia.domain.jsontypes import JsonObject
from transparencia.output.charts import figure
from transparencia.publishers.local_metadata import LocalDocument, LocalRecord

PAGE_FILE = "index.html"
PREVIEW_ROWS = 10
# Characters that could end the <script> element or open a comment inside it, written as JSON
# escapes: the parsed JSON is the same, the HTML parser never sees "</script>" or "<!--".
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
# Lines per kind of change shown on the page; the CSV and JSON beside it have all of them.
PAGE_CHANGE_LINES = 40
KIND_TITLES = {
    "alta": "Altas (personas que entraron)",
    "baja": "Bajas (personas que salieron)",
    "cambio": "Cambios de salario, gastos de representación, cargo, condición o unidad",
    "unidad": "Por unidad administrativa",
    "nuevo": "Registros nuevos más grandes",
}


class Preview(TypedDict):
    header: list[str]
    rows: list[list[str]]
    file: str


class PageContext(TypedDict):
    """What the dataset page shows beyond the catalog entry."""

    latest: str | None  # the latest month, AAAA-MM
    preview: Preview | None
    changes: JsonObject | None  # the latest month's change summary, its changes grouped by kind
    chart: LocalRecord | None
    package: LocalRecord | None


def page_context(folder: Path, document: LocalDocument) -> PageContext:
    """What the dataset page shows beyond the catalog entry: latest month, preview, changes, chart."""
    records = document.get("resources", [])
    months = sorted({period for r in records if (period := r.get("period"))})
    latest = months[-1] if months else None
    chart = next((r for r in records if r.get("role") == "chart"), None)
    return {
        "latest": latest,
        "preview": _preview(folder, _find(records, latest, "month", "CSV")),
        "changes": _changes(folder, _find(records, latest, "changes", "JSON")),
        "chart": chart,
        "package": next((r for r in records if r.get("role") == "datapackage"), None),
    }


def structured_data(document: LocalDocument, license_url: str | None, address: str | None = None) -> Markup:
    """schema.org ``Dataset`` JSON-LD for search engines (Google Dataset Search), ready to sit inside
    ``<script type="application/ld+json">``. With ``address``, the dataset folder's absolute public
    address (``publish.public_url``), it gives the page's ``url`` and each file's ``contentUrl``;
    without it they are left out, since schema.org takes no relative ``contentUrl``."""
    dataset = document["dataset"]
    records = document.get("resources", [])
    institution = {"@type": "Organization", "name": dataset.get("publisher_name") or dataset["organization"]}
    months = sorted({period for r in records if (period := r.get("period"))})
    data: JsonObject = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": dataset["title"],
        "description": dataset["notes"],
        "inLanguage": "es",
        "isAccessibleForFree": True,
        "keywords": list(dataset.get("tags", [])),
        "creator": institution,
        "publisher": institution,
        "distribution": [_download(r, address) for r in records],
    }
    if address:
        data["url"] = address + PAGE_FILE
    if license_url:
        data["license"] = license_url
    if months:
        data["temporalCoverage"] = f"{months[0]}/{months[-1]}" if len(months) > 1 else months[0]
    return Markup(json.dumps(data, ensure_ascii=False, indent=1).translate(_SCRIPT_SAFE))  # noqa: S704 - escaped above


def _download(record: LocalRecord, address: str | None) -> JsonObject:
    download: JsonObject = {"@type": "DataDownload", "name": record["name"], "encodingFormat": record["media_type"]}
    if address:
        download["contentUrl"] = address + quote(record["file"])
    return download


def _find(records: list[LocalRecord], period: str | None, role: str, fmt: str) -> LocalRecord | None:
    return next((r for r in records if r.get("period") == period and r.get("role") == role
                 and r["format"] == fmt), None)


def _preview(folder: Path, record: LocalRecord | None) -> Preview | None:
    if record is None or not (folder / record["file"]).exists():
        return None
    with open(folder / record["file"], encoding="utf-8-sig", newline="") as handle:
        rows = list(itertools.islice(csv.reader(handle), PREVIEW_ROWS + 1))
    return {"header": rows[0] if rows else [], "rows": rows[1:], "file": record["file"]}


def _changes(folder: Path, record: LocalRecord | None) -> JsonObject | None:
    if record is None or not (folder / record["file"]).exists():
        return None
    summary = json.loads((folder / record["file"]).read_text(encoding="utf-8"))
    groups = []
    for kind, title in KIND_TITLES.items():
        lines = [line for line in summary["changes"] if line["kind"] == kind]
        if lines:
            groups.append({"kind": kind, "title": title, "count": len(lines), "lines": lines[:PAGE_CHANGE_LINES]})
    return {**summary, "groups": groups, "file": record["file"]}


def shown(value: object, counted: bool = False) -> str:
    """A value as the page prints it: amounts with their cents, counts bare (both with thousands
    separators), missing as a dash."""
    if value is None or value == "":
        return figure(None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return figure(value, counted)
    return str(value)


def signed(value: float | None, counted: bool = False) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + shown(value, counted)
