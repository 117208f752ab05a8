"""The one interface every publisher backend implements, and the data it receives.

A release is first rendered into files on disk (``publishers.render``): the same bytes go to every
backend, so a file downloaded from CKAN is byte-identical to the local catalog's copy. A backend
then only has to make a dataset look like a ``DatasetSpec`` with exactly these ``ResourceFile``s,
touching nothing whose sha256 is unchanged.

What a backend can do beyond ``Publisher`` is declared as capabilities, abstract classes a caller
checks with ``isinstance`` (never by the target's name), in the manner of dlt's destination
capabilities:

* ``PortalSession``: a run settles with a shared portal before it publishes (pre-flight checks, the
  institution's one-writer lease, the sweep of what interrupted runs left), and the lease can be
  read and broken by hand (``transparencia desbloquear``). The local catalog has no such session:
  its folder needs nothing before a run, and its own lock serialises writers.
* ``ReadBack``: what is published can be read back resource by resource and its bytes digested
  (``publishers.verification``); ``TableReadBack`` adds the DataStore tables behind the resources.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol, TypedDict

from transparencia.domain import Frequency, Period
from transparencia.domain.jsontypes import JsonObject
from transparencia.domain.vocab import OutputFormat, PublishObject, PublishVerb
from transparencia.errors import TransientError
from transparencia.publishers.names import EXTRA_KEYS

LEGAL_BASIS = "Ley 6 de 2002"
# Every dataset carries these tags, spelt once (the item's own tags come after them).
BASE_TAGS = ("transparencia", "ley-6-de-2002")


# A table row as it is sent to, and read back from, the DataStore: JSON-ready values by column.
Cell = str | int | float | bool | None
Record = dict[str, Cell]


class FieldInfo(TypedDict):
    label: str | None
    notes: str | None


class DictionaryField(TypedDict):
    """A column of a table's data dictionary, as the DataStore holds it."""

    id: str
    type: str
    info: FieldInfo


class FingerprintRecord(TypedDict):
    """A ``TableFingerprint`` as the read-back manifest writes it (Spanish keys)."""

    filas: int
    sumas: dict[str, str]


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
class TableFingerprint:
    """Row count and one checksum per column: what must match between the month and its table."""

    rows: int
    checksums: tuple[tuple[str, str], ...]  # (column, exact decimal text), in field order

    def differences(self, other: TableFingerprint) -> list[str]:
        """Spanish descriptions of what differs (empty when equal)."""
        found = [] if self.rows == other.rows else [f"filas: se esperaban {self.rows}, hay {other.rows}"]
        theirs = dict(other.checksums)
        for column, value in self.checksums:
            if Decimal(value) != Decimal(theirs.get(column, "NaN")):
                found.append(f"suma de control de '{column}': se esperaba {value}, hay {theirs.get(column)}")
        return found

    def to_dict(self) -> FingerprintRecord:
        return {"filas": self.rows, "sumas": dict(self.checksums)}


@dataclass(frozen=True)
class ResourceFile:
    name: str  # stable, e.g. "Planilla 2025-01 (CSV)"; the identity of the resource within its dataset
    format: OutputFormat  # shown by its label: "CSV"
    path: Path
    sha256: str
    description: str = ""
    period: Period | None = None  # a month's file; None for history, dictionary, chart
    datastore: DatastoreTable | None = None
    extras: Mapping[str, str] = field(default_factory=dict)  # more resource metadata (the report's points)
    role: str = ""  # what a page does with it: "month", "changes", "chart", "datapackage" (else a plain download)
    licence: str | None = None  # the licence's IRI (DCAT's dct:license), from its dataset's, where a portal keeps one per file


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
    publisher_name: str | None = None  # the institution's full name, as the public reads it
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


class ActionRecord(TypedDict):
    """A ``PublishAction`` as the run ledger records it."""

    target: str
    name: str
    action: str
    url: str | None
    detail: str


class ResultRecord(TypedDict):
    """A ``PublishResult`` as the run ledger records it."""

    dataset: str
    url: str | None
    error: str | None
    dry_run: bool
    writes: int
    actions: list[ActionRecord]


@dataclass(frozen=True)
class PublishAction:
    target: PublishObject
    name: str
    action: PublishVerb
    url: str | None = None
    detail: str = ""

    def to_dict(self) -> ActionRecord:
        return {"target": self.target.value, "name": self.name, "action": self.action.value,
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
        return sum(1 for a in self.actions if a.action.writes)

    def to_dict(self) -> ResultRecord:
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

    def published_periods(self, organization: str, dataset: str) -> set[Period]:
        """The months the dataset holds online: what the compliance report may count."""
        ...


class PortalUnavailableError(TransientError):
    """The target stopped answering after its own retries: the run's remaining publishing stops.

    A backend retries its transient failures itself (``publishers.ckan_client``: backoff, then a
    breaker that fails every later call at once); the flow only records the outage."""


# A write listener hears each write call a backend makes to a shared portal (the run ledger's journal).
# Each event names the action, its object and whether it happened ("hecha") or may have ("posible").
WriteListener = Callable[[dict[str, str | None]], None]


class PortalSession(ABC):
    """A backend whose target is shared by several runs and machines: a run settles with it first."""

    @abstractmethod
    def preflight(self, organization: str, title: str | None = None, *, create_organization: bool = True) -> str:
        """Fail within seconds, before any extraction, when the target cannot take this run (``ConfigError``).

        Returns the name the target knows the run's user by. It also starts a new run's session
        (a portal that stopped answering in an earlier run is asked again)."""

    @abstractmethod
    def lease(self, organization: str, run_id: str, task: str = "", *, on_write: WriteListener | None = None,
              wait: float = 0.0, tell: Callable[[str], None] | None = None) -> AbstractContextManager[object]:
        """The institution's lease, for every period: one writer at a time. A live holder is waited
        for up to ``wait`` seconds (``tell`` hears, in Spanish, whom the run waits for, and whose
        lease it broke because its process had died on this machine), then
        ``LeaseHeldError``. A lease this process already holds for ``run_id`` is joined, not taken again.

        ``task`` says what the run does ("publicación de 2025-01"); ``on_write`` hears the lease's
        own writes, kept apart from the release's."""

    @abstractmethod
    def break_lease(self, organization: str, reason: str) -> str | None:
        """Break the institution's lease whoever holds it, recording ``reason``; who held it (Spanish), or None."""

    @abstractmethod
    def sweep_leftovers(self, organization: str) -> list[str]:
        """Remove what interrupted runs left in the organization (the lease held); what was removed."""


@dataclass(frozen=True)
class PublishedResource:
    """A resource as the target holds it, read back."""

    name: str
    id: str  # the target's identifier (a CKAN resource id, the local file's name)
    location: str  # where its bytes are (a URL, a file path)
    sha256: str | None = None  # the digest the target records for its bytes (None when it records none)


class ReadBack(ABC):
    """A backend whose published resources can be read back and their bytes digested (verification)."""

    missing_dataset: str  # Spanish: why a dataset's checks stop ("el conjunto no está en el portal")

    @abstractmethod
    def published_resources(self, organization: str, dataset: str) -> list[PublishedResource] | None:
        """Every resource the dataset holds, by name; None when the dataset is not there."""

    @abstractmethod
    def published_sha256(self, resource: PublishedResource) -> str:
        """The sha256 of the bytes the target serves, or why they could not be read (Spanish)."""

    @abstractmethod
    def download(self, resource: PublishedResource, dest: Path) -> None:
        """Save the bytes the target serves for ``resource`` at ``dest`` (``TransientError`` when it cannot)."""

    @abstractmethod
    def sha256_mismatch(self, found: str, expected: str) -> str:
        """How a digest that differs from the validated one is described (Spanish)."""

    @abstractmethod
    def published_description(self, organization: str, dataset: str) -> str | None:
        """The dataset's description as the public reads it; None when the dataset is not there."""


class TableReadBack(ReadBack):
    """A ``ReadBack`` whose resources also carry a queryable table (the CKAN DataStore)."""

    @abstractmethod
    def published_table(self, resource: PublishedResource, table: DatastoreTable) -> TableFingerprint | None:
        """The fingerprint (rows, column checksums) of the resource's table; None when it has none."""

    @abstractmethod
    def published_dictionary(self, resource: PublishedResource) -> list[JsonObject] | None:
        """The table's data dictionary as the target answers it (its fields, types and descriptions,
        shaped like ``DictionaryField``); None when it has none."""
