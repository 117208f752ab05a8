"""One way for a test to put an institution's configuration in a folder.

``sample_document`` is the sample configuration (data/institution.yaml) as data; ``write_institution``
writes a configuration (a document, or YAML text when the test is about how it is spelt) as
``institution.yaml``; ``sample_institution`` writes the sample, optionally under another name, with
its demo month when asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from transparencia.domain import Period
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "institution.yaml"


def sample_document() -> dict[str, Any]:
    return yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))


def write_institution(folder: Path, configuration: dict[str, Any] | str, name: str = "institution.yaml") -> Path:
    """``configuration`` written to ``folder/name`` (keys in the document's order); its path."""
    text = configuration if isinstance(configuration, str) else yaml.safe_dump(configuration, allow_unicode=True,
                                                                               sort_keys=False)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def sample_institution(folder: Path, *, month: Period | None = None, rows: int = 10, **institution: str) -> Path:
    """The sample configuration with ``institution`` fields replaced (organization, acronym, name),
    and the demo month of ``month`` written into its inbox when given."""
    document = sample_document()
    document["institution"].update(institution)
    path = write_institution(folder, document)
    if month is not None:
        write_month(load_config(path), month, rows=rows)
    return path
