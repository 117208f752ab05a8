"""One way for a test to put an institution's configuration in a folder.

``sample_document`` is the sample configuration (data/institution.yaml) as data; ``write_institution``
writes a configuration (a document, or YAML text when the test is about how it is spelt) as
``institution.yaml``; ``sample_institution`` writes the sample, optionally under another name, with
its demo month when asked; ``one_item_institution`` is the smallest institution that publishes a
month to the local catalog (one directorate, one item), for the tests about months and their order
(``viaticos_institution`` its viáticos case).
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


ONE_ITEM = """
institution:
  name: Servicio Nacional de Migración
  acronym: {acronym}
  organization: {organization}
inbox: .
data_dir: .
publish:
  target: local
  local_dir: {published}
  formats: [csv, json]
directorates:
  - id: {directorate}
    name: {directorate_name}
    sources:
      - id: {directorate}-{item}
        type: file
        path: inbox/{{period}}/{directorate}/{item}*.xlsx
        items:
          {item}: {{}}
"""


def one_item_institution(folder: Path, organization: str, acronym: str, item: str, directorate: str,
                         directorate_name: str, published: Path | str = "published") -> Path:
    """The smallest institution that publishes a month: one directorate sending one item's workbook,
    published to the local catalog in ``published`` (a CKAN test names its target on the command line)."""
    return write_institution(folder, ONE_ITEM.format(
        organization=organization, acronym=acronym, item=item, directorate=directorate,
        directorate_name=directorate_name, published=published))


def viaticos_institution(folder: Path, organization: str, acronym: str = "SNM") -> Path:
    """One directorate sending viáticos each month."""
    return one_item_institution(folder, organization, acronym, "viaticos", "finanzas", "Dirección de Finanzas")
