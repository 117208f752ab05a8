"""What every extractor returns: an item's rows in its schema, and an account of every change made.

The frame's columns are the schema's fields in schema order (a field the source lacks is an
all-null column and is listed in ``missing_columns``). Its index holds the source row numbers as
the officer sees them (the spreadsheet's row number, the CSV line number, the 1-based record
number of a query), so that every later finding can point back to the cell it came from.

Typed columns: ``string`` and ``yearmonth`` fields are pandas ``str``; ``number`` float64;
``integer`` nullable Int64; ``date`` datetime64 (day precision); ``boolean`` nullable boolean.
A value that could not be converted becomes null and is recorded in ``failures``; validation
turns those into findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class SourceRef:
    """Where rows came from, in the terms the officer uses."""

    kind: str  # "file" | "database"
    location: str  # file path as configured/given, or the database URL with the password hidden
    sheet: str | None = None
    directorate: str | None = None

    def describe(self) -> str:
        text = self.location if self.sheet is None else f"{self.location} (hoja '{self.sheet}')"
        return text if self.directorate is None else f"{text} de {self.directorate}"


@dataclass(frozen=True)
class DroppedRow:
    row: int
    reason: str  # "blank" | "total" | "footnote" | "note" | "repeated_header" | "numbering" | "declared_empty"
    text: str = ""


@dataclass(frozen=True)
class Coercion:
    """Values of one column changed to reach the schema's type (e.g. 'B/. 1,250.00' to 1250.0)."""

    column: str
    kind: str  # e.g. "amount_text", "excel_serial_date", "text_date", "cedula_normalised", "enum_case"
    count: int
    examples: tuple[tuple[str, str], ...] = ()  # (before, after), a few


@dataclass(frozen=True)
class CellFailure:
    """A value that could not be converted to the field's type."""

    row: int
    column: str
    value: str
    expected: str  # Spanish, e.g. "un monto (p. ej. 1250.00)"
    rule: str = "type-error"  # the finding it becomes: "type-error", or "empty-marker" ('N/A' in a required field)


@dataclass
class Extraction:
    item: str  # catalog code
    frame: pd.DataFrame
    source: SourceRef
    header_row: int | None = None
    column_map: dict[str, str] = field(default_factory=dict)  # schema field -> source header
    # schema field -> the 1-based column the directorate sees it in (a sheet's column, a CSV's field
    # number); empty for a query, whose columns have names but no place
    column_numbers: dict[str, int] = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # source headers not in the schema
    dropped: list[DroppedRow] = field(default_factory=list)
    coercions: list[Coercion] = field(default_factory=list)
    failures: list[CellFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # Spanish remarks on how the source was read
    banner: list[str] = field(default_factory=list)  # text of the title rows above the header
    # Where the directorate declared the month without movements (Spanish), e.g. "en el archivo,
    # fila 2: «Sin movimientos en el período»"; None when it did not. Only a declaration makes an
    # empty month valid: an empty sheet alone never does.
    declared_empty: str | None = None
    # The extraction memo's key (``sources.memo``) when the rows were read from an archived input:
    # the same key means the same rows, so the validation memo's key needs not hash them.
    input_key: str | None = None

    @property
    def rows(self) -> int:
        return len(self.frame)

    def summary(self) -> dict[str, Any]:
        """The account of transformations, as data (it goes into ``validate --json``)."""
        dropped: dict[str, int] = {}
        for d in self.dropped:
            dropped[d.reason] = dropped.get(d.reason, 0) + 1
        return {
            "source": self.source.describe(),
            "header_row": self.header_row,
            "column_map": self.column_map,
            "missing_columns": self.missing_columns,
            "ignored_columns": self.ignored_columns,
            "notes": self.notes,
            "declared_empty": self.declared_empty,
            "rows_dropped": dropped,
            "dropped": [{"row": d.row, "reason": d.reason, "text": d.text} for d in self.dropped],
            "coercions": [
                {"column": c.column, "kind": c.kind, "count": c.count,
                 "examples": [list(e) for e in c.examples]}
                for c in self.coercions
            ],
        }
