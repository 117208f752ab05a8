"""The local catalog's ``metadatos.json``: one dataset's facts and its files, as the folder records them.

``publishers.local`` writes it on every sync and reads it back to merge, remove, verify and build the
catalog; ``publishers.pages`` reads it to build the dataset's page. The file is trusted as written:
only this package writes it.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class LocalRecord(TypedDict):
    """One published file of the dataset."""

    name: str  # the resource's name, its identity within the dataset
    format: str  # the format's label ("CSV")
    media_type: str
    file: str  # the file's name in the dataset folder
    sha256: str
    bytes: int
    description: str
    period: str | None  # AAAA-MM for a month's file
    role: NotRequired[str]  # what the page does with it ("month", "changes", "chart", "datapackage")
    issued: NotRequired[str]  # AAAA-MM-DD the file was first published (absent in older folders)
    modified: NotRequired[str]  # AAAA-MM-DD its bytes last changed


class LocalDataset(TypedDict):
    """The dataset's facts: the Spanish extras as shown, and the typed facts ``catalog.json`` is built from."""

    name: str
    title: str
    notes: str
    organization: str
    publisher_name: NotRequired[str | None]  # the institution's full name (absent in older folders)
    license_id: str
    tags: list[str]
    maintainer: str | None
    maintainer_email: str | None
    extras: dict[str, str]
    frequency: str | None  # a Frequency's value
    legal_basis: str | None
    coverage: list[str] | None  # [first, last] months, AAAA-MM


class LocalDocument(TypedDict):
    dataset: LocalDataset
    resources: list[LocalRecord]


def periods(document: LocalDocument) -> list[str]:
    """The months (AAAA-MM) the dataset covers: its months' files and its recorded coverage, in order."""
    found = {period for r in document.get("resources", []) if (period := r.get("period"))}
    found.update(document["dataset"].get("coverage") or ())
    return sorted(found)
