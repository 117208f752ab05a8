"""Hits: the rows that failed one check on one column, in bulk, before they become findings.

Checks (the generated GX suite, the row rules) report in this vectorised form; turning hits into
``Finding`` objects is done once, here, with the cap that keeps a bad 100k-row file from producing
a 100 MB report.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from transparencia.domain import Severity
from transparencia.validation.findings import FINDING_TYPES, Finding, render_message

MAX_FINDINGS_PER_CHECK = 1000


# One value per failing row: a list, or the NumPy array the vectorised checks select.
Cells = Sequence[Any] | npt.NDArray[Any]


@dataclass
class Hits:
    rule: str  # a FINDING_TYPES id
    severity: Severity
    column: str | None
    rows: Cells  # frame index values: source row numbers
    values: Cells
    params: Mapping[str, object] = field(default_factory=dict)  # template parameters shared by all rows
    row_params: Mapping[str, Cells] = field(default_factory=dict)  # template parameters per row

    def __len__(self) -> int:
        return len(self.rows)


def plain_value(value: object) -> object:
    """A JSON-ready form of a cell: ISO dates, Python numbers, None for missing."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
        if value is pd.NaT:
            return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def shown_value(value: object) -> str:
    """How a cell is written inside a Spanish message."""
    value = plain_value(value)
    if value is None:
        return "(vacío)"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def to_findings(hits: Hits, file: str | None, sheet: str | None,
                cap: int = MAX_FINDINGS_PER_CHECK) -> list[Finding]:
    """The first ``cap`` hits as findings, plus one summary finding counting the rest.

    The summary keeps the check's rule id (so counting by rule stays right) with no row or value;
    its message is the ``more-rows`` template.
    A compound value (a tuple: one value per column of a key) is shown joined by ", " and kept
    part by part in the finding's ``params["parts"]``.
    """
    findings = []
    for i in range(min(cap, len(hits))):
        value = hits.values[i]
        params = {**hits.params, **{k: shown_value(v[i]) for k, v in hits.row_params.items()}}
        if isinstance(value, tuple):
            params["parts"] = tuple(plain_value(v) for v in value)
            value = ", ".join(shown_value(v) for v in value)
        message = render_message(hits.rule, **params, column=hits.column, value=shown_value(value))
        row = hits.rows[i]
        findings.append(Finding(hits.rule, hits.severity, message, hits.column,
                                None if plain_value(row) is None else int(row), plain_value(value), file, sheet, params))
    rest = len(hits) - cap
    if rest > 0:
        message = render_message("more-rows", count=rest, title=FINDING_TYPES[hits.rule].title.lower())
        findings.append(Finding(hits.rule, hits.severity, message, hits.column, None, None, file, sheet))
    return findings
