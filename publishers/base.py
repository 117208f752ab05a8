"""The one interface every publisher backend implements, and the data it receives.

A release is first rendered into files on disk (``publishers.render``): the same bytes go to every
backend, so a file downloaded from CKAN is byte-identical to the local catalog's copy. A backend
then only has to make a dataset look like a ``DatasetSpec`` with exactly these ``ResourceFile``s,
touching nothing whose sha256 is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from transparencia.domain import Frequency, Period

LEGAL_BASIS = "Ley 6 de 2002"
# Every dataset carries these tags, spelt once (the item's own tags come after them).
BASE_TAGS = ("transparencia", "ley-6-de-2002")
# The extras as every backend spells them (CKAN extras, the local catalog's metadata).
EXTRA_KEYS = {
    "frequency": "frecuencia", "coverage": "cobertura temporal", "legal_basis": "base legal",
    "directorate": "dirección responsable", "item_code": "código del punto", "kind": "tipo",
}


@dataclass(frozen=True)
class DatastoreField:
    id: str
    type: str  # DataStore type: "text" | "numeric" | "int" | "date" | "bool"
    label: str  # Spanish title (data dictionary)
    notes: str  # Spanish description (data dictionary)


@dataclass(frozen=True)
class DatastoreTable:
    """Rows to load into the DataStore behind a resource, with explicit types (never guessed)."""

    fields: tuple[DatastoreField, ...]
    rows_path: Path  # Parquet file with exactly these columns, already privacy-filtered
    primary_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceFile:
    name: str  # stable, e.g. "Planilla 2025-01 (CSV)"; the identity of the resource within its dataset
    format: str  # "CSV" | "XLSX" | "JSON" | "PARQUET" | "HTML" | "MD"
    path: Path
    sha256: str
    description: str = ""
    period: str | None = None  # YYYY-MM for a month's file; None for history, dictionary, report
    datastore: DatastoreTable | None = None
    extras: Mapping[str, str] = field(default_factory=dict)  # more resource metadata (the report's points)
    role: str = ""  # what a page does with it: "month", "changes", "chart", "datapackage" (else a plain download)


@dataclass(frozen=True)
class Coverage:
    """The months a dataset covers, first to last."""

    first: Period
    last: Period

    @property
    def label_es(self) -> str:
        """``'2025-01'`` or ``'2025-01 a 2025-03'``."""
        return str(self.first) if self.first == self.last else f"{self.first} a {self.last}"

    @classmethod
    def of(cls, periods: Sequence[str | Period]) -> Coverage:
        months = sorted(Period.parse(p) for p in periods)
        return cls(months[0], months[-1])


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset as every backend receives it: typed facts, which each backend maps to its own
    vocabulary (CKAN extras, DCAT in the local catalog); nothing is parsed back from display text."""

    name: str  # CKAN dataset name (slug), e.g. "snm-planilla"
    title: str
    notes: str  # Spanish description
    organization: str  # CKAN organization name, as configured (never derived)
    license_id: str
    tags: tuple[str, ...] = BASE_TAGS
    maintainer: str | None = None
    maintainer_email: str | None = None
    frequency: Frequency | None = None
    coverage: Coverage | None = None
    legal_basis: str | None = None
    directorate: str | None = None  # the directorate responsible, by its Spanish name
    item_code: str | None = None  # the mandatory item the dataset publishes
    kind: str | None = None  # what a non-item dataset carries ("informe-cumplimiento", "monitoreo-nacional")

    @property
    def extras(self) -> Mapping[str, str]:
        """The typed facts as Spanish key-value pairs, spelt the same on every dataset."""
        values = {
            "frequency": self.frequency.label if self.frequency else None,
            # an item's dataset whose every month was withdrawn says so
            "coverage": self.coverage.label_es if self.coverage else "sin meses publicados" if self.item_code else None,
            "legal_basis": self.legal_basis, "directorate": self.directorate, "item_code": self.item_code,
            "kind": self.kind,
        }
        return {EXTRA_KEYS[key]: value for key, value in values.items() if value}


@dataclass(frozen=True)
class PublishAction:
    target: str  # "dataset" | "resource" | "datastore" | "view"
    name: str
    action: str  # "create" | "update" | "unchanged" | "delete"
    url: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "name": self.name, "action": self.action,
                "url": self.url, "detail": self.detail}


@dataclass
class PublishResult:
    dataset: str
    actions: list[PublishAction] = field(default_factory=list)
    url: str | None = None  # the dataset's page
    error: str | None = None  # Spanish; set when a terminal error stopped this dataset
    dry_run: bool = False

    @property
    def writes(self) -> int:
        return sum(1 for a in self.actions if a.action != "unchanged")

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "url": self.url, "error": self.error, "dry_run": self.dry_run,
                "writes": self.writes, "actions": [a.to_dict() for a in self.actions]}


class Publisher(Protocol):
    """A backend: the local catalog folder (the default) or a CKAN portal."""

    name: str

    def sync(self, dataset: DatasetSpec, resources: Sequence[ResourceFile], *, dry_run: bool = False) -> PublishResult:
        """Make ``dataset`` hold these resources (created or updated by name; others left alone)."""
        ...

    def remove(self, dataset: DatasetSpec, names: Sequence[str], *, dry_run: bool = False) -> PublishResult:
        """Delete the resources called ``names`` (a withdrawn month; its DataStore table too)."""
        ...

    def published_periods(self, organization: str, dataset: str) -> set[str]:
        """The months (AAAA-MM) the dataset holds online: what the compliance report may count."""
        ...
