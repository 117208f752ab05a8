"""Reading every institution's published compliance reports from a CKAN portal (read-only).

The national monitor needs, for one month and the month before, the JSON compliance report each
organization published. Everything comes from public read actions, so no token is needed (one is
sent when given, for portals that keep reports private):

* the organizations' names, paged through ``organization_list``, then their titles asked for by
  name (the universe: an organization that published nothing still counts, as "sin informe");
* the report datasets, found by their tag (``cumplimiento``) and paged through ``package_search``,
  then recognised by their extra ``tipo`` or, for reports of earlier versions, by their name;
* each month's JSON resource ("Informe de cumplimiento AAAA-MM (JSON)", or any JSON resource whose
  ``periodo`` is the month) is downloaded (concurrently) and checked against the sha256 its
  metadata records (CKAN's ``hash``). The metadata is an index only: a score is never taken from
  an editable field such as ``puntos_cumplidos``, which is kept only to be checked against the file.

A report that cannot be downloaded, does not match its recorded sha256 or cannot be parsed is
returned with the reason, never dropped.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from transparencia.domain import OutputFormat, Period
from transparencia.domain.jsontypes import JsonObject
from transparencia.publishers.base import PortalUnavailableError
from transparencia.publishers.ckan_client import CkanClient, RetryPolicy
from transparencia.publishers.names import (
    KIND_EXTRA,
    PERIOD_EXTRA,
    REPORT_KIND,
    REPORT_NAME_SUFFIX,
    REPORT_POINT_KEYS,
    REPORT_TAG,
    compliance_resource_name,
)

PAGE_SIZE = 1000
ORGANIZATION_PAGE_SIZE = 25  # CKAN caps organization_list with all_fields at 25 by default
DOWNLOAD_THREADS = 8
READ_RETRY = RetryPolicy(attempts=5, base_delay=0.5, max_delay=8.0)


@dataclass(frozen=True)
class Organization:
    name: str
    title: str


@dataclass
class PublishedReport:
    """One organization's report dataset and, per month, the parsed JSON or why it could not be read."""

    organization: Organization
    dataset: str
    points: dict[Period, dict[str, str]] = field(default_factory=dict)  # what the metadata claims, to check
    urls: dict[Period, str] = field(default_factory=dict)  # URL of a JSON report to download
    sha256: dict[Period, str] = field(default_factory=dict)  # the digest the metadata records for it
    contents: dict[Period, JsonObject] = field(default_factory=dict)  # parsed report
    problems: dict[Period, str] = field(default_factory=dict)  # Spanish reason


class PortalReader:
    """A CKAN portal's public read actions, through the project's one CKAN client (``publishers.ckan_client``).

    The client classifies every answer: a portal that does not answer (a lost connection, a 5xx)
    is retried with backoff and then reported as ``PortalUnavailableError``; a refusal (403), a
    missing object (404) or a rejected request is a ``TerminalError`` at once, never retried."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0):
        self.client = CkanClient(url, token, retry=READ_RETRY, connect_timeout=timeout, read_timeout=timeout)
        self.url = self.client.url

    def __repr__(self) -> str:  # never show the token
        return f"PortalReader({self.url!r})"

    def action(self, name: str, **params: Any) -> Any:
        try:
            return self.client.call(name, params)
        except PortalUnavailableError as error:
            cause = error.__cause__
            if cause is None:  # the breaker is open: the client's own words say since when
                raise
            raise PortalUnavailableError(f"El portal {self.url} no respondió a '{name}': "
                                         f"{type(cause).__name__}") from error

    def organization_names(self) -> list[str]:
        """Every organization's name, in pages of ``PAGE_SIZE`` (names only: one page for most portals)."""
        names: list[str] = []
        while page := self.action("organization_list", limit=PAGE_SIZE, offset=len(names), sort="name asc"):
            names += page
            if len(page) < PAGE_SIZE:
                break
        return names

    def organizations(self, names: list[str]) -> list[Organization]:
        """The named organizations with their titles, asked for by name (CKAN gives 25 in full at a time)."""
        found = []
        for start in range(0, len(names), ORGANIZATION_PAGE_SIZE):
            chunk = names[start:start + ORGANIZATION_PAGE_SIZE]
            page = self.action("organization_list", all_fields=True, organizations=chunk, limit=len(chunk))
            found += [Organization(o["name"], o.get("title") or o["name"]) for o in page]
        return sorted(found, key=lambda o: o.name)

    def report_packages(self) -> Iterator[JsonObject]:
        """Every report dataset of the portal once, paged in a stable order.

        The search index can list a dataset twice (a stale entry, a page boundary moving while
        others publish): each is yielded once, by id, so no institution is counted twice."""
        start, seen = 0, set()
        while True:
            page = self.action("package_search", fq=f"tags:{REPORT_TAG}", rows=PAGE_SIZE, start=start,
                               sort="name asc", include_private=True)
            for package in page["results"]:
                if is_report_package(package) and package["id"] not in seen:
                    seen.add(package["id"])
                    yield package
            start += len(page["results"])
            if not page["results"] or start >= page["count"]:
                return

    def download_json(self, url: str, sha256: str | None = None) -> JsonObject:
        """The parsed JSON at ``url``; a Spanish ``ValueError`` when it is not a JSON object or, when
        ``sha256`` is given, when the file is not the one whose digest the metadata records."""
        try:
            response = self.client.get(url)
        except requests.RequestException as error:
            raise ValueError(f"no se pudo descargar ({type(error).__name__})") from error
        if response.status_code != 200:
            raise ValueError(f"la descarga respondió HTTP {response.status_code}")
        if sha256 is not None and hashlib.sha256(response.content).hexdigest() != sha256:
            raise ValueError("el archivo no coincide con el sha256 registrado en sus metadatos "
                             "(fue modificado después de publicarse)")
        try:
            data = json.loads(response.content.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"el archivo no es JSON válido ({error})") from error
        if not isinstance(data, dict):
            raise ValueError("el JSON no es un informe (se esperaba un objeto)")
        return data


def is_report_package(package: JsonObject) -> bool:
    extras = {e.get("key"): e.get("value") for e in package.get("extras") or []}
    return extras.get(KIND_EXTRA) == REPORT_KIND or (package.get("name") or "").endswith(REPORT_NAME_SUFFIX)


def report_resource(package: JsonObject, period: Period) -> JsonObject | None:
    """The month's JSON report in ``package``, by its stable name, else by ``periodo``."""
    json_resources = [r for r in package.get("resources") or [] if (r.get("format") or "").upper() == "JSON"]
    named = compliance_resource_name(period, OutputFormat.JSON)
    chosen = next((r for r in json_resources if r.get("name") == named), None)
    return chosen or next((r for r in json_resources if r.get(PERIOD_EXTRA) == str(period)), None)


def _find_month(report: PublishedReport, package: JsonObject, period: Period) -> None:
    resource = report_resource(package, period)
    if resource is None:
        return
    report.points[period] = {k: str(resource[k]) for k in REPORT_POINT_KEYS if resource.get(k) is not None}
    if not resource.get("url"):
        report.problems[period] = "el recurso no tiene dirección de descarga"
        return
    report.urls[period] = resource["url"]
    recorded = recorded_sha256(resource)
    if recorded:
        report.sha256[period] = recorded


def recorded_sha256(resource: JsonObject) -> str | None:
    """The digest the publisher recorded: CKAN's standard ``hash`` (plain hex, or ``sha256:hex``),
    else the tool's own ``sha256`` field; None for reports of versions that recorded neither."""
    value = str(resource.get("hash") or resource.get("sha256") or "").strip().lower()
    return value.removeprefix("sha256:") or None


def matches(name: str, patterns: Iterable[str]) -> bool:
    patterns = list(patterns)
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def read_reports(reader: PortalReader, periods: Iterable[Period], organizations: Iterable[str] = ()
                 ) -> tuple[list[Organization], list[PublishedReport]]:
    """The organizations (filtered by name patterns) and their reports of ``periods``, downloaded."""
    patterns, periods = list(organizations), list(periods)
    orgs = reader.organizations([name for name in reader.organization_names() if matches(name, patterns)])
    known = {o.name: o for o in orgs}
    reports = []
    for package in reader.report_packages():
        owner = package.get("organization") or {}
        if owner.get("name") not in known:
            continue
        report = PublishedReport(known[owner["name"]], package["name"])
        for period in periods:
            _find_month(report, package, period)
        reports.append(report)
    _download_all(reader, reports)
    return orgs, reports


def _download_all(reader: PortalReader, reports: list[PublishedReport]) -> None:
    jobs = [(report, period, url) for report in reports for period, url in report.urls.items()]

    def fetch(job: tuple[PublishedReport, Period, str]) -> None:
        report, period, url = job
        try:
            report.contents[period] = reader.download_json(url, report.sha256.get(period))
        except ValueError as error:
            report.problems[period] = str(error)

    with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
        list(pool.map(fetch, jobs))
