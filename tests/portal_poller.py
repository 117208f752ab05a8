"""An anonymous reader of a CKAN organization that records every half-published state it sees.

Issue 18: "the public sees the previous month or the new one, never a state in between". The
poller is the public: no token, a plain ``requests`` session, polling every ``interval`` seconds
in a background thread while a test publishes, kills, restarts. What it records as a violation:

* ``cargando``     a resource whose name marks it as loading (or as retired, "(reemplazado)");
* ``tabla``        a DataStore table whose row count differs from the rows its resource's
                   description declares ("100,000 filas"), or a resource marked ``datastore_active``
                   whose table cannot be read;
* ``totales``      a description that states a month ("Último mes publicado, 2025-01: …") whose
                   data files are not in the dataset;
* ``histórico``    a history whose formats (CSV, JSON, Parquet) hold different months or rows.

Usage::

    with PortalPoller(ckan_server.url, ckan_org) as poller:
        ...publish, kill, re-run...
        poller.wait_polls(2)       # at least two full polls after the end
    poller.assert_clean()

Connection errors (a CKAN restart) are counted in ``errors``, never as violations: a portal that
does not answer shows nothing in between. History files are downloaded only when their declared
sha256 changes, so polling a 100k-row month stays cheap.
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import re
import threading
import time
from dataclasses import dataclass

import pyarrow.csv
import pyarrow.parquet
import requests

from transparencia.publishers.names import RETIRED_SUFFIX, STAGING_SUFFIX

LATEST_MONTH = re.compile(r"Último mes publicado, (\d{4}-\d{2}):")
DECLARED_ROWS = re.compile(r"\b(\d{1,3}(?:,\d{3})*) filas?\b")
HISTORY = re.compile(r"^(?P<label>.+) — histórico \((?P<format>CSV|JSON|PARQUET)\)$")
MONTH_DATA = re.compile(r" (?P<period>\d{4}-\d{2}) \((?:CSV|XLSX|JSON|PARQUET)\)$")
# A file whose bytes differ from its declared sha256 this many polls in a row is a violation
# (one poll may fall between CKAN's metadata commit and its file write).
MISMATCH_POLLS = 4


@dataclass(frozen=True)
class Violation:
    kind: str  # cargando | tabla | totales | histórico
    dataset: str
    detail: str


class PortalPoller:
    """Poll every public dataset of ``organization`` on ``url`` anonymously; see the module doc."""

    def __init__(self, url: str, organization: str, *, interval: float = 0.5, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.organization = organization
        self.interval = interval
        self.timeout = timeout
        self.session = requests.Session()  # anonymous: never an Authorization header
        self.violations: list[Violation] = []
        self.first_seen: dict[Violation, float] = {}
        self.polls = 0
        self.errors = 0
        self.seen_datasets: set[str] = set()
        self._history: dict[tuple[str, str], collections.Counter[str]] = {}  # (url, sha256) -> rows per month
        self._mismatches: collections.Counter[tuple[str, str]] = collections.Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="portal-poller", daemon=True)

    def __enter__(self) -> PortalPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    # -- what tests call ---------------------------------------------------------------------

    def wait_polls(self, count: int = 2, timeout: float = 120.0) -> None:
        """Block until ``count`` more complete polls have run (so the final state was seen)."""
        target, deadline = self.polls + count, time.monotonic() + timeout
        while self.polls < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"the poller completed {self.polls} polls, waited for {target}")
            time.sleep(0.05)

    def assert_clean(self, *, min_polls: int = 1) -> None:
        """No violation seen, and the poller actually saw the portal."""
        assert self.polls >= min_polls, f"the poller completed {self.polls} polls ({self.errors} errors)"
        assert not self.violations, "the public saw a state in between:\n" + "\n".join(
            f"  {v.kind}: {v.dataset}: {v.detail}" for v in self.violations)

    # -- the loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except (requests.RequestException, ValueError, KeyError):
                self.errors += 1
            else:
                self.polls += 1
            self._stop.wait(self.interval)

    def poll(self) -> None:
        """One anonymous look at every public dataset of the organization."""
        found = self._action("package_search", {"fq": f"organization:{self.organization}", "rows": 1000,
                                                "include_private": "false"})
        self.seen_datasets |= {p["name"] for p in found["results"]}
        for name in sorted(self.seen_datasets):
            try:
                package = self._action("package_show", {"id": name})
            except LookupError:
                continue  # deleted, private or not yet created: the public sees nothing
            self._check_package(package)

    def _action(self, action: str, params: dict[str, object]) -> dict:
        response = self.session.get(f"{self.url}/api/3/action/{action}", params=params, timeout=self.timeout)
        if response.status_code in (403, 404):
            raise LookupError(action)
        response.raise_for_status()
        return response.json()["result"]

    def _record(self, kind: str, dataset: str, detail: str) -> None:
        violation = Violation(kind, dataset, detail)
        with self._lock:
            if violation not in self.first_seen:
                self.first_seen[violation] = time.time()
                self.violations.append(violation)

    # -- the four checks ---------------------------------------------------------------------

    def _check_package(self, package: dict) -> None:
        name, resources = package["name"], package.get("resources", [])
        for resource in resources:
            if (resource.get("name") or "").endswith((STAGING_SUFFIX, RETIRED_SUFFIX)):
                self._record("cargando", name, resource["name"])
            if resource.get("datastore_active") in (True, "true", "True"):
                self._check_table(name, resource)
        self._check_totals(name, package.get("notes") or "", resources)
        self._check_history(name, resources)

    def _check_table(self, dataset: str, resource: dict) -> None:
        try:
            total = self._action("datastore_search", {"resource_id": resource["id"], "limit": 0})["total"]
        except LookupError:
            self._record("tabla", dataset, f"{resource.get('name')}: marcado en el DataStore, sin tabla legible")
            return
        declared = DECLARED_ROWS.search(resource.get("description") or "")
        if declared and int(declared.group(1).replace(",", "")) != total:
            self._record("tabla", dataset, f"{resource.get('name')}: {total} filas en la tabla, "
                                           f"{declared.group(1)} declaradas")

    def _check_totals(self, dataset: str, notes: str, resources: list[dict]) -> None:
        stated = LATEST_MONTH.search(notes)
        if stated is None:
            return
        period = stated.group(1)
        if not any((m := MONTH_DATA.search(r.get("name") or "")) and m.group("period") == period
                   for r in resources):
            self._record("totales", dataset, f"la descripción presenta {period} sin sus archivos")

    def _check_history(self, dataset: str, resources: list[dict]) -> None:
        by_label: dict[str, dict[str, dict]] = collections.defaultdict(dict)
        for resource in resources:
            match = HISTORY.match(resource.get("name") or "")
            if match:
                by_label[match.group("label")][match.group("format")] = resource
        for label, formats in by_label.items():
            months = {fmt: self._history_months(dataset, resource) for fmt, resource in formats.items()}
            known = {fmt: rows for fmt, rows in months.items() if rows is not None}
            if len({tuple(sorted(rows.items())) for rows in known.values()}) > 1:
                shown = "; ".join(f"{fmt} {sum(rows.values())} filas de {','.join(sorted(rows))}"
                                  for fmt, rows in sorted(known.items()))
                self._record("histórico", dataset, f"{label}: los formatos no coinciden ({shown})")

    def _history_months(self, dataset: str, resource: dict) -> collections.Counter[str] | None:
        """Rows per month of a history file, read once per declared sha256; None while unreadable."""
        key = (resource.get("url") or "", resource.get("sha256") or "")
        if key in self._history:
            return self._history[key]
        response = self.session.get(key[0], timeout=60)
        if response.status_code != 200:
            return None
        content = response.content
        if key[1] and hashlib.sha256(content).hexdigest() != key[1]:
            self._mismatches[key] += 1
            if self._mismatches[key] >= MISMATCH_POLLS:
                self._record("histórico", dataset, f"{resource.get('name')}: el archivo servido no es el declarado")
            return None
        rows = _months_of(resource.get("format") or "", content)
        self._history[key] = rows
        return rows


def _months_of(fmt: str, content: bytes) -> collections.Counter[str]:
    """Rows per ``periodo`` value of a history file."""
    fmt = fmt.upper()
    if fmt == "CSV":
        table = pyarrow.csv.read_csv(io.BytesIO(content), convert_options=pyarrow.csv.ConvertOptions(
            include_columns=["periodo"], column_types={"periodo": pyarrow.string()}))
        return collections.Counter(table.column("periodo").to_pylist())
    if fmt == "PARQUET":
        table = pyarrow.parquet.read_table(io.BytesIO(content), columns=["periodo"])
        return collections.Counter(str(p) for p in table.column("periodo").to_pylist())
    return collections.Counter(str(r["periodo"]) for r in json.loads(content.decode("utf-8-sig")))
