"""The institution configuration: who publishes, its directorates, their sources and the items each feeds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Institution:
    """Publishing identity. ``organization`` is the CKAN organization name as configured, never derived."""

    name: str
    acronym: str
    organization: str
    license_id: str = "cc-zero"
    maintainer: str | None = None
    maintainer_email: str | None = None
    url: str | None = None
